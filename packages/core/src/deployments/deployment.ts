/**
 * The deployment seam: what a `Locker` runs on (one Redis server or Cluster, or N independent
 * servers for Redlock) makes the {@link HoldProtocol} of every primitive, and declares which
 * primitives and options it can honour. Every refusal of an unsupported primitive or option is
 * read from the two tables below ({@link DEPLOYMENT_SUPPORT}, {@link PRIMITIVE_SUPPORT}), so a
 * new deployment kind or primitive states its limits in one place.
 *
 * @internal
 */
import { LockOptionError } from '../errors.js';
import type { LockOptions, ResolvedLockOptions } from '../options.js';
import type { LockInspection } from '../primitives/mutex.js';
import type { HoldProtocol } from './protocol.js';

/** The kinds of hold a Locker hands out. */
export type Primitive = 'mutex' | 'semaphore' | 'read-write lock';

/** What one deployment kind supports; a refusal's text is the reason given to the user. */
export interface DeploymentSupport {
  readonly primitives: ReadonlySet<Primitive>;
  /** Why `fair: true` is refused, or `undefined` when fair locks work. */
  readonly fair: string | undefined;
  /** Why `fencing: true` is refused, or `undefined` when fencing tokens are minted. */
  readonly fencing: string | undefined;
  /** Why any `replicas` is refused, or `undefined` when the mutex can wait for replicas. */
  readonly replicas: string | undefined;
}

/**
 * Which primitives and options each deployment kind supports. A Cluster is a single-server
 * deployment (each lock lives on the one shard its key hashes to); its clients have no WAIT on
 * the connection that ran the script, hence the separate row for runners without one.
 */
export const DEPLOYMENT_SUPPORT = {
  singleServer: {
    primitives: new Set<Primitive>(['mutex', 'semaphore', 'read-write lock']),
    fair: undefined,
    fencing: undefined,
    replicas: undefined,
  },
  singleServerWithoutReplicaWait: {
    primitives: new Set<Primitive>(['mutex', 'semaphore', 'read-write lock']),
    fair: undefined,
    fencing: undefined,
    replicas: 'this runner cannot wait for replicas (it has no waitForReplicas(); cluster clients do not).',
  },
  redlock: {
    primitives: new Set<Primitive>(['mutex']),
    fair: 'a fair lock needs one queue, which independent servers cannot share; use one server for fair locks.',
    fencing:
      'counters on independent servers cannot give a token that strictly increases across holds; ' +
      'Redlock locks have no fencing token (leave fencing unset).',
    replicas: 'waiting for replicas is for one primary, not for several servers (Redlock).',
  },
} as const satisfies Record<string, DeploymentSupport>;

/** What one primitive supports, whatever the deployment. */
export interface PrimitiveSupport {
  /** The primitive's name in messages, plural ("semaphores"). */
  readonly plural: string;
  /** Why `reentrant: true` and `fair: true` are refused, or `undefined` when both work. */
  readonly reentrantOrFair: string | undefined;
  /** True when its holds can wait for replicas. */
  readonly replicas: boolean;
}

/** Which options each primitive supports. */
export const PRIMITIVE_SUPPORT = {
  mutex: { plural: 'mutexes', reentrantOrFair: undefined, replicas: true },
  semaphore: {
    plural: 'semaphores',
    reentrantOrFair:
      'a semaphore permit is neither reentrant (each acquire takes permits of its own) nor fair (no FIFO order)',
    replicas: false,
  },
  'read-write lock': {
    plural: 'read-write locks',
    reentrantOrFair: 'a read-write lock is neither reentrant nor fair (it prefers writers)',
    replicas: false,
  },
} as const satisfies Record<Primitive, PrimitiveSupport>;

/** What one semaphore permit handle takes. */
export interface PermitShape {
  readonly limit: number;
  readonly permits: number;
  readonly options: ResolvedLockOptions;
}

/** The keys of a semaphore, in the order its scripts take them. */
export type SemaphoreKeys = readonly [permits: string, fencingCounter: string, waiters: string];

/** The keys of a mutex: its hash and its fencing counter. */
export type MutexKeys = readonly [lock: string, fencingCounter: string];

/**
 * Where a Locker's locks live. Makes the protocol of each hold; a primitive it does not support
 * (see {@link DeploymentSupport.primitives}) is refused by {@link checkPrimitive} before any of
 * its methods is reached.
 */
export interface Deployment {
  readonly support: DeploymentSupport;
  /** Options this deployment sets whatever the caller asked (Redlock: no fencing). */
  readonly forcedOptions: Readonly<LockOptions>;
  /**
   * True when a protocol from {@link Deployment.mutex} keeps nothing of one handle's (no hold
   * count, no state of a call), so that handles of one name and options may share it.
   */
  readonly sharesMutexProtocols: boolean;
  /** The protocol of a mutex hold at `key`; waits for replicas when `options.replicas` asks. */
  mutex(key: string, options: ResolvedLockOptions): HoldProtocol;
  /**
   * The protocol of a lock set's hold over the mutexes at `keys` (one slot's), all or nothing;
   * waits for replicas when `options.replicas` asks.
   */
  mutexSet(keys: readonly string[], options: ResolvedLockOptions): HoldProtocol;
  /** What the deployment shows about the mutex at `keys`, each server given `timeout` ms. */
  inspectMutex(keys: MutexKeys, timeout: number): Promise<LockInspection>;
  /** The protocol of one semaphore permit handle. */
  semaphorePermit(keys: SemaphoreKeys, shape: PermitShape): HoldProtocol;
  /** The raw reply of the semaphore's inspect script. */
  inspectSemaphore(keys: SemaphoreKeys): Promise<unknown>;
  /** The protocol of a read hold (`write: false`) or the write hold of a read-write lock. */
  readWriteHold(keys: readonly string[], write: boolean, options: ResolvedLockOptions): HoldProtocol;
  /** The raw reply of the read-write lock's inspect script, for `token`; lists holders if `list`. */
  inspectReadWrite(keys: readonly string[], token: string, list: boolean): Promise<unknown>;
}

/**
 * Refuses `fair: true` or `fencing: true` where the deployment cannot honour them. Checked on the
 * options as given (Locker defaults, and each call's), so the refusal names what the user wrote.
 */
export function checkDeploymentOptions(support: DeploymentSupport, options: LockOptions): void {
  if (options.fair === true && support.fair !== undefined) {
    throw new LockOptionError('fair', support.fair);
  }
  if (options.fencing === true && support.fencing !== undefined) {
    throw new LockOptionError('fencing', support.fencing);
  }
}

/** Refuses a primitive the deployment does not offer. */
export function checkPrimitive(support: DeploymentSupport, primitive: Primitive): void {
  if (!support.primitives.has(primitive)) throw primitiveRefusal(primitive);
}

/** The refusal of `primitive` by a deployment that does not offer it. */
export function primitiveRefusal(primitive: Primitive): LockOptionError {
  return new LockOptionError(
    'runner',
    `${PRIMITIVE_SUPPORT[primitive].plural} need one Redis (or one Cluster); a Locker over several servers (Redlock) offers the mutex only.`,
  );
}

/** Refuses a mutex's `replicas` where the deployment cannot wait for them. */
export function checkReplicaSupport(support: DeploymentSupport, resolved: ResolvedLockOptions): void {
  if (resolved.replicas !== undefined && support.replicas !== undefined) {
    throw new LockOptionError('replicas', support.replicas);
  }
}

/**
 * Refuses `reentrant: true` or `fair: true` for a primitive whose holds are neither, on the
 * options as given. A non-object is left for `resolveLockOptions` to report.
 */
export function checkPrimitiveOptions(primitive: Primitive, options: unknown): void {
  const why = PRIMITIVE_SUPPORT[primitive].reentrantOrFair;
  if (why === undefined || typeof options !== 'object' || options === null) return;
  for (const option of ['reentrant', 'fair'] as const) {
    const value: unknown = (options as Partial<Record<typeof option, unknown>>)[option];
    if (value !== undefined && value !== false) {
      throw new LockOptionError(option, `${why}; got ${String(value)}.`);
    }
  }
}

/**
 * Refuses `replicas` (also a Locker-wide default) for a primitive that does not wait for them,
 * rather than silently skip the WAIT: never wait less than asked for.
 */
export function checkPrimitiveReplicas(
  primitive: Primitive,
  resolved: ResolvedLockOptions,
): ResolvedLockOptions {
  const { replicas, plural } = PRIMITIVE_SUPPORT[primitive];
  if (!replicas && resolved.replicas !== undefined) {
    throw new LockOptionError('replicas', `${plural} do not wait for replicas; only the mutex does.`);
  }
  return resolved;
}
