import { EmbeddedRedis } from '../../src/encoder/queue/embedded.js';

/**
 * The tests' Redis: the encoder's own private redis-server (loopback, a free port, a temp folder),
 * with a known password, so that tests can check it is never printed, and an append-only file,
 * so that a restart keeps the queue, as a production Redis for the queue must.
 */
export function startTestRedis(): Promise<EmbeddedRedis> {
  return EmbeddedRedis.start({ password: 'pw-s3cret-hunter2', persist: true });
}
