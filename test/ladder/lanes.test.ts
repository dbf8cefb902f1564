import { describe, expect, it } from 'vitest';
import { Lanes, type LaneKind } from '../../src/encoder/ladder/lanes.js';

/** Jobs that finish when told to, and a log of what started while what else ran. */
function harness(width: number) {
  const lanes = new Lanes(width);
  const log: string[] = [];
  const running = new Set<string>();
  const release = new Map<string, () => void>();
  let most = 0;
  const add = (name: string, kind: LaneKind, fail = false, rank = 0) =>
    lanes.run(kind, async () => {
      running.add(name);
      most = Math.max(most, running.size);
      log.push(`${name}:${[...running].sort().join('+')}`);
      await new Promise<void>((r) => release.set(name, r));
      running.delete(name);
      if (fail) throw new Error(`${name} failed`);
      return name;
    }, rank);
  const finish = async (name: string) => {
    release.get(name)!();
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  return { add, finish, log, most: () => most };
}

describe('the probe lanes', () => {
  it('keeps one neural point on the main thread while conventional points fill the other lanes', async () => {
    const h = harness(2);
    const done = [h.add('c1', 'processes'), h.add('c2', 'processes'), h.add('n1', 'main-thread'), h.add('n2', 'main-thread'), h.add('c3', 'processes')];
    await Promise.resolve();
    expect(h.log).toEqual(['c1:c1', 'c2:c1+c2']);
    await h.finish('c1'); // a neural point first: none is in flight
    expect(h.log.at(-1)).toBe('n1:c2+n1');
    await h.finish('c2'); // not a second neural point beside the first while a conventional one waits
    expect(h.log.at(-1)).toBe('c3:c3+n1');
    await h.finish('c3'); // nothing else waits: the second goes beside the first
    expect(h.log.at(-1)).toBe('n2:n1+n2');
    await h.finish('n1');
    await h.finish('n2');
    expect(await Promise.all(done)).toEqual(['c1', 'c2', 'n1', 'n2', 'c3']);
    expect(h.most()).toBe(2);
  });

  it("takes an earlier window's points first, each window's in arrival order", async () => {
    const h = harness(1);
    const done = [h.add('w2a', 'processes', false, 2), h.add('w1a', 'processes', false, 1), h.add('w2b', 'processes', false, 2), h.add('w0a', 'processes', false, 0), h.add('w1b', 'processes', false, 1)];
    await Promise.resolve();
    // w2a started before the others arrived; then by window
    for (const name of ['w2a', 'w0a', 'w1a', 'w1b']) await h.finish(name);
    await h.finish('w2b');
    expect(h.log.map((l) => l.split(':')[0])).toEqual(['w2a', 'w0a', 'w1a', 'w1b', 'w2b']);
    expect(await Promise.all(done)).toEqual(['w2a', 'w1a', 'w2b', 'w0a', 'w1b']);
  });

  it('passes a failure to its caller and goes on with the rest', async () => {
    const h = harness(1);
    const bad = h.add('a', 'processes', true);
    const good = h.add('b', 'main-thread');
    await Promise.resolve();
    await h.finish('a');
    await expect(bad).rejects.toThrow('a failed');
    await h.finish('b');
    expect(await good).toBe('b');
  });
});
