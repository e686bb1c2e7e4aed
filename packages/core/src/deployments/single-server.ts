/**
 * One Redis server, or one Redis Cluster (each lock's keys share a hash slot, so every script
 * runs on one shard): every primitive, fair locks and fencing tokens. Waiting for replicas is
 * offered when the runner can send WAIT on the connection that ran the script.
 *
 * @internal
 */

import type { ResolvedLockOptions } from '../options.js';
import {
  hasReleaseNotifier,
  hasReplicaWaiter,
  type ReleaseNotifier,
  type ReplicaWaiter,
} from '../port/capabilities.js';
import type { ScriptRunner } from '../port/runner.js';
import { MultiMutexProtocol } from '../primitives/multi-mutex.js';
import type { LockInspection } from '../primitives/mutex.js';
import { inspectLock, mutexProtocol } from '../primitives/mutex.js';
import { readWriteProtocol } from '../primitives/read-write-lock.js';
import { SemaphoreProtocol } from '../primitives/semaphore.js';
import { RW_INSPECT_SCRIPT, SEMAPHORE_INSPECT_SCRIPT } from '../scripts/index.js';
import {
  checkReplicaSupport,
  DEPLOYMENT_SUPPORT,
  type Deployment,
  type DeploymentSupport,
  type MutexKeys,
  type PermitShape,
  type SemaphoreKeys,
} from './deployment.js';
import { type HoldProtocol, runScript } from './protocol.js';
import { ReplicatedProtocol } from './replicas.js';
import { WakeChannel } from './wake-channel.js';

/** A Locker over one {@link ScriptRunner}. */
export class SingleServerDeployment implements Deployment {
  readonly support: DeploymentSupport;
  readonly forcedOptions = {};
  readonly sharesMutexProtocols = true;
  readonly #runner: ScriptRunner;
  readonly #notifier: ReleaseNotifier | undefined;
  readonly #wakeChannel: WakeChannel | undefined;
  readonly #replicaWaiter: ReplicaWaiter | undefined;

  /** `prefix`: the Locker's key prefix, which also starts the name of its mutexes' wake channel. */
  constructor(runner: ScriptRunner, prefix: string) {
    this.#runner = runner;
    this.#notifier = hasReleaseNotifier(runner) ? runner : undefined;
    this.#wakeChannel = this.#notifier && new WakeChannel(this.#notifier, prefix);
    this.#replicaWaiter = hasReplicaWaiter(runner) ? runner : undefined;
    this.support =
      this.#replicaWaiter === undefined
        ? DEPLOYMENT_SUPPORT.singleServerWithoutReplicaWait
        : DEPLOYMENT_SUPPORT.singleServer;
  }

  mutex(key: string, options: ResolvedLockOptions): HoldProtocol {
    checkReplicaSupport(this.support, options);
    return this.#replicated(mutexProtocol(this.#runner, this.#wakeChannel, key, options), options);
  }

  mutexSet(keys: readonly string[], options: ResolvedLockOptions): HoldProtocol {
    checkReplicaSupport(this.support, options);
    return this.#replicated(new MultiMutexProtocol(this.#runner, this.#notifier, keys), options);
  }

  /** Replicas wrap a mutex's protocol: a WAIT after each write that a failover could lose. */
  #replicated(protocol: HoldProtocol, options: ResolvedLockOptions): HoldProtocol {
    const waiter = this.#replicaWaiter;
    if (waiter === undefined || options.replicas === undefined) return protocol;
    return new ReplicatedProtocol(protocol, waiter, options.replicas);
  }

  inspectMutex(keys: MutexKeys, _timeout: number): Promise<LockInspection> {
    return inspectLock(this.#runner, keys);
  }

  semaphorePermit(keys: SemaphoreKeys, shape: PermitShape): HoldProtocol {
    return new SemaphoreProtocol(this.#runner, this.#wakeChannel, keys, shape);
  }

  inspectSemaphore(keys: SemaphoreKeys): Promise<unknown> {
    return runScript(this.#runner, SEMAPHORE_INSPECT_SCRIPT, keys, []);
  }

  readWriteHold(keys: readonly string[], write: boolean, options: ResolvedLockOptions): HoldProtocol {
    return readWriteProtocol(this.#runner, this.#notifier, keys, write, options);
  }

  inspectReadWrite(keys: readonly string[], token: string, list: boolean): Promise<unknown> {
    return runScript(this.#runner, RW_INSPECT_SCRIPT, keys, [token, list ? 1 : 0]);
  }
}
