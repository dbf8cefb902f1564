import type { RedisOptions } from 'ioredis';
import { HcdError } from '../../shared/errors.js';

/** A parsed --queue URL: how to connect, and how to quote it without its password. */
export interface QueueUrl {
  connection: RedisOptions;
  /** The URL with its password replaced by ***, for messages. */
  masked: string;
  /** Takes the password (as given and as decoded) out of any text before it is printed. */
  scrub(text: string): string;
}

const MASK = '***';

/** A URL that does not parse still loses whatever sits between `user:` and `@`. */
const maskLoose = (s: string): string => s.replace(/(\/\/[^:/@]*:)[^@]*@/g, `$1${MASK}@`);

/** redis://[:password@]HOST:PORT[/DB] or rediss:// (TLS). */
export function parseQueueUrl(url: string): QueueUrl {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new HcdError(`bad --queue URL '${maskLoose(url)}': use redis://[:password@]HOST:PORT[/DB]`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new HcdError(`bad --queue URL '${maskLoose(url)}': the scheme must be redis:// or rediss://`);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isSafeInteger(db) || db < 0) throw new HcdError(`bad --queue URL '${maskLoose(url)}': the database must be a whole number`);
  const secrets = [u.password, decodeURIComponent(u.password)].filter((s) => s.length > 0);
  const scrub = (text: string): string => secrets.reduce((t, s) => t.split(s).join(MASK), maskLoose(text));
  const connection: RedisOptions = {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : 6379,
    db,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    // BullMQ's blocking calls need it; a command then waits for Redis to come back instead of failing
    maxRetriesPerRequest: null,
    retryStrategy: (times: number) => Math.min(times * 200, 2000),
  };
  return { connection, masked: scrub(url), scrub };
}
