/**
 * The layer rules: folders follow the data flow, and imports point down the layers only.
 * A layer may import itself and the layers in its `may` list; nothing else under src/.
 */
const path = {
  shared: '^src/shared/',
  config: '^src/config[.]ts$',
  media: '^src/encoder/media/',
  graph: '^src/encoder/graph/',
  pairs: '^src/encoder/pairs/',
  hcd: '^src/encoder/hcd/',
  ladder: '^src/encoder/ladder/',
  job: '^src/encoder/job/',
  queue: '^src/encoder/queue/',
  compare: '^src/compare/',
  train: '^src/train/',
  stills: '^src/stills/',
  server: '^src/server/',
  player: '^src/player/',
};
const encoder = ['media', 'graph', 'pairs', 'hcd', 'ladder', 'job'];
const may = {
  shared: [],
  media: ['shared'],
  graph: ['shared'],
  pairs: ['shared', 'media', 'graph'],
  hcd: ['shared', 'media', 'graph', 'pairs'],
  // the per-title ladder: a probe of candidate rungs through the real codec, and the choice
  ladder: ['shared', 'media', 'graph', 'pairs', 'hcd'],
  // the jobs' options: defaults and checks, read by the jobs and the command line
  config: ['shared', 'media', 'graph', 'pairs', 'hcd', 'ladder'],
  job: ['shared', 'config', 'media', 'graph', 'pairs', 'hcd', 'ladder'],
  // the encode spread over workers: the job's own parts, run one chunk at a time
  queue: ['shared', 'config', 'media', 'graph', 'pairs', 'hcd', 'ladder', 'job'],
  compare: ['shared', 'config', ...encoder],
  train: ['shared', 'config', 'media', 'graph', 'pairs', 'hcd'],
  stills: ['shared', 'config', 'media', 'graph', 'pairs', 'hcd'],
  server: ['shared'],
  player: ['shared'],
};

const layerRules = Object.entries(may).map(([layer, below]) => ({
  name: `${layer}-imports-down-only`,
  comment: `${layer} may import ${below.length ? below.join(', ') : 'nothing else in src/'} (and itself)`,
  severity: 'error',
  from: { path: path[layer] },
  to: { path: '^src/', pathNot: [path[layer], ...below.map((b) => path[b])] },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'no-cycles',
      comment: 'modules form no import cycle, type-only imports included',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'browser-safe',
      comment: 'src/shared and the player run in the browser: no Node built-ins (the player build scripts excepted)',
      severity: 'error',
      from: { path: '^src/(shared|player)/', pathNot: '^src/player/build(-hls|-cache)?[.]ts$' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'not-to-tests-or-benches',
      comment: 'product code never imports tests or benchmarks',
      severity: 'error',
      from: { path: '^(src|samples)/' },
      to: { path: '^(test|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
