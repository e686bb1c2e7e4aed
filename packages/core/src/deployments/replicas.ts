/**
 * Waiting for replicas: after a lock is written on a primary, `WAIT count timeout` on the
 * same connection blocks until `count` replicas acknowledged every write this connection made, or
 * the timeout passes. A lock that too few replicas acknowledged would be lost if the primary
 * failed over right then, so it is given back and reported as not acquired.
 *
 * Best effort, as Redis documents WAIT: an acknowledged write is in the replicas' memory, not
 * necessarily on their disks, and failover may still promote a replica that did not acknowledge.
 */
import { LockRedisError } from '../errors.js';
import type { ReplicaWaiter } from '../port/capabilities.js';
import type {
  AcquireReply,
  AcquireRequest,
  ExtendResult,
  HoldProtocol,
  HoldStatus,
  ReleaseResult,
  Subscribe,
} from './protocol.js';

/** The `replicas` lock option: how many replicas must acknowledge a lock, within how many ms. */
export interface ReplicaAcknowledgement {
  /** Replicas that must acknowledge; a positive integer. */
  readonly count: number;
  /** How long to wait for them, in ms; a positive integer (WAIT's 0, "forever", is not allowed). */
  readonly timeout: number;
}

/**
 * Wraps a single-server protocol: a first acquire, and every extend or renewal, is followed by a
 * WAIT. An acquire that too few replicas acknowledged is released and reported as not acquired;
 * an extend or renewal that too few acknowledged rejects with a {@link LockRedisError}, so the
 * handle's validity deadline stays where the last acknowledged one put it (renewal retries until
 * then, and the lock is lost as `unreachable` if no renewal is acknowledged in time). A re-entry
 * is not waited for: it writes nothing a failover could lose that the first entry did not.
 */
export class ReplicatedProtocol implements HoldProtocol {
  readonly #inner: HoldProtocol;
  readonly #waiter: ReplicaWaiter;
  readonly #replicas: ReplicaAcknowledgement;
  readonly subscribe: Subscribe | undefined;

  constructor(inner: HoldProtocol, waiter: ReplicaWaiter, replicas: ReplicaAcknowledgement) {
    this.#inner = inner;
    this.subscribe = inner.subscribe;
    this.#waiter = waiter;
    this.#replicas = replicas;
  }

  async acquire(request: AcquireRequest): Promise<AcquireReply> {
    const reply = await this.#inner.acquire(request);
    if (!reply.acquired || request.holdCount > 1) return reply;
    let acknowledged: number;
    try {
      acknowledged = await this.#wait();
    } catch (error) {
      await this.#giveBack(request.token);
      throw new LockRedisError('wait', error);
    }
    if (acknowledged >= this.#replicas.count) return reply;
    await this.#giveBack(request.token);
    return { acquired: false, fencingToken: undefined, queued: false };
  }

  release(token: string, holdCount: number): Promise<ReleaseResult> {
    return this.#inner.release(token, holdCount);
  }

  async extend(token: string, ms: number, replace: boolean): Promise<ExtendResult> {
    const result = await this.#inner.extend(token, ms, replace);
    if (result.kind !== 'extended') return result;
    let acknowledged: number;
    try {
      acknowledged = await this.#wait();
    } catch (error) {
      throw new LockRedisError('wait', error);
    }
    if (acknowledged < this.#replicas.count) {
      const { count, timeout } = this.#replicas;
      throw new LockRedisError(
        'wait',
        new Error(
          `only ${acknowledged} of ${count} replicas acknowledged the extension within ${timeout} ms`,
        ),
      );
    }
    return result;
  }

  status(token: string): Promise<HoldStatus> {
    return this.#inner.status(token);
  }

  #wait(): Promise<number> {
    return this.#waiter.waitForReplicas(this.#replicas.count, this.#replicas.timeout).then(Number);
  }

  /** Releases an under-acknowledged acquire; if that fails too, the lock expires within its ttl. */
  async #giveBack(token: string): Promise<void> {
    await this.#inner.release(token, 0).catch(() => {});
  }
}
