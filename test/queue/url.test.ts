import { describe, expect, it } from 'vitest';
import { parseQueueUrl } from '../../src/encoder/queue/url.js';
import { HcdError } from '../../src/shared/errors.js';

describe('--queue URLs', () => {
  it('give the connection, and a masked form for messages', () => {
    const q = parseQueueUrl('redis://:p%40ss@10.0.0.5:6380/2');
    expect(q.connection).toMatchObject({ host: '10.0.0.5', port: 6380, db: 2, password: 'p@ss', maxRetriesPerRequest: null });
    expect(q.masked).toBe('redis://:***@10.0.0.5:6380/2');
    expect(q.scrub('auth p@ss failed for redis://:p%40ss@10.0.0.5:6380/2')).toBe('auth *** failed for redis://:***@10.0.0.5:6380/2');
    expect(parseQueueUrl('rediss://u:pw@host').connection).toMatchObject({ host: 'host', port: 6379, db: 0, username: 'u', tls: {} });
    expect(parseQueueUrl('redis://127.0.0.1:6379').masked).toBe('redis://127.0.0.1:6379');
  });

  it('are refused with one line that never holds the password', () => {
    for (const bad of ['http://:topsecret@host:1', 'redis://:topsecret@host:1/x', 'redis//:topsecret@', 'redis://:topsecret@[::1']) {
      let err: unknown;
      try {
        parseQueueUrl(bad);
      } catch (e) {
        err = e;
      }
      expect(err, bad).toBeInstanceOf(HcdError);
      expect((err as Error).message).not.toContain('topsecret');
    }
  });
});
