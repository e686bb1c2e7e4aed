/**
 * The one shape every measured library is wrapped into, so that each scenario is written once.
 * Wrappers keep each library's own API and defaults; they only translate names.
 */

/**
 * How an acquire behaves when the lock is held:
 * - `once`: one attempt, never waits (the non-blocking form: tryAcquire, retryCount 0, ...);
 * - `common`: waits with the retry policy shared by all libraries (`COMMON_RETRY`);
 * - `defaults`: waits with the library's own defaults (where the library does not wait by
 *   default, the smallest change that makes it wait).
 */
export type RetryPolicy = 'once' | 'common' | 'defaults';

/** A held lock. */
export interface Held {
  /** Resolves once Redis answered; what it resolves is the library's business. */
  release(): Promise<unknown>;
}

/** A held lock that renews itself in the background until released. */
export interface RenewingHeld extends Held {
  /** True once the library reported the lock lost. */
  readonly lost: boolean;
}

/** One client connection (or, for quorum, one set of connections) of a library. */
export interface LockClient {
  /** Takes the lock on `key` as the retry policy says; `null` when the library gave up. */
  acquire(key: string): Promise<Held | null>;
  close(): Promise<void>;
}

export interface RenewingClient {
  /** How often this library renews a held lock, in ms (where it can be told, as asked). */
  readonly intervalMs: number;
  /** Takes the free lock on `key`, auto-renewed until released. */
  acquire(key: string): Promise<RenewingHeld>;
  close(): Promise<void>;
}

/** Read and write holds of a read-write lock, waiting with the common retry policy. */
export interface ReadWriteClient {
  /** A read hold on `key`; `null` when the library gave up. */
  read(key: string): Promise<Held | null>;
  /** The write hold on `key`; `null` when the library gave up. */
  write(key: string): Promise<Held | null>;
  close(): Promise<void>;
}

export interface RenewalSettings {
  readonly ttlMs: number;
  readonly intervalMs: number;
}

/** A single round trip on a raw client, for the floor. */
export interface PingClient {
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface Subject {
  connect(url: string, policy: RetryPolicy): Promise<LockClient>;
  /** Redlock over independent servers, for libraries that have it. */
  connectQuorum?(urls: readonly string[]): Promise<LockClient>;
  /** A counting semaphore of `limit` permits (acquire waits with the common retry policy). */
  connectSemaphore?(url: string, limit: number): Promise<LockClient>;
  /** A read-write lock, for libraries that have one. */
  connectReadWrite?(url: string): Promise<ReadWriteClient>;
  /** Auto-renewing locks, for libraries that have them. */
  connectRenewing?(url: string, renewal: RenewalSettings): Promise<RenewingClient>;
  /** A raw round trip on the same client library (floor subjects only). */
  connectPing?(url: string): Promise<PingClient>;
}
