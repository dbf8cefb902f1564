import { HcdError } from './errors.js';

/**
 * The UpscalerManifest's fields, checked by hand for the browser: the player bundle must stay
 * small, and zod is most of its size. The rules are those of the zod schema in manifest.ts,
 * which Node keeps using (with zod's messages); test/player/manifest.test.ts checks that both
 * accept and reject the same values.
 */
export interface UpscalerManifestFields {
  id: string;
  scale: number;
  /** URL of the ONNX file, relative to the manifest. */
  model: string;
  input: string;
  output: string;
  range: '0-1' | '0-255';
  colour: 'bt709-limited';
  params: number;
  macsPerPixel: number;
  receptiveRadius: number;
}

/** undefined when the value is fine, else what is wrong with it. */
type Check = (v: unknown) => string | undefined;

const text: Check = (v) => (typeof v === 'string' && v.length > 0 ? undefined : 'expected a non-empty string');
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const int =
  (min: number, max = Number.MAX_SAFE_INTEGER): Check =>
  (v) =>
    finite(v) && Number.isSafeInteger(v) && v >= min && v <= max ? undefined : `expected an integer from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ''}`;
const atLeast0: Check = (v) => (finite(v) && v >= 0 ? undefined : 'expected a number >= 0');
const oneOf =
  (...values: string[]): Check =>
  (v) =>
    typeof v === 'string' && values.includes(v) ? undefined : `expected ${values.map((x) => `'${x}'`).join(' or ')}`;

const FIELDS: Record<keyof UpscalerManifestFields, Check> = {
  id: text,
  scale: int(2, 8),
  model: text,
  input: text,
  output: text,
  range: oneOf('0-1', '0-255'),
  colour: oneOf('bt709-limited'),
  params: int(0),
  macsPerPixel: atLeast0,
  receptiveRadius: int(0),
};

const DEFAULTS: Partial<UpscalerManifestFields> = { receptiveRadius: 8 };

/** The manifest's fields (others are dropped), or an HcdError `invalid <what>: <field>: <problem>`. */
export function checkUpscalerManifest(value: unknown, what: string): UpscalerManifestFields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HcdError(`invalid ${what}: (root): expected an object`);
  const src = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, check] of Object.entries(FIELDS)) {
    const v = src[key] === undefined ? DEFAULTS[key as keyof UpscalerManifestFields] : src[key];
    const problem = check(v);
    if (problem) throw new HcdError(`invalid ${what}: ${key}: ${problem}`);
    out[key] = v;
  }
  return out as unknown as UpscalerManifestFields;
}
