/**
 * What the orchestrator (run.ts) and a forked job process (child.ts) say to each other: the job
 * to run, its result, and the one request a job may make while it runs (the wire counts of the
 * counting proxy, which lives in the orchestrator).
 */

export const SCENARIO_IDS = [
  'uncontended',
  'parallel',
  'contended-common',
  'contended-defaults',
  'contended-think',
  'failed-attempt',
  'quorum',
  'many-held',
  'primitives',
  'commands',
] as const;
export type ScenarioId = (typeof SCENARIO_IDS)[number];

export const SUBJECT_IDS = [
  'lock-ioredis',
  'lock-node-redis',
  'lock-fair-ioredis',
  'floor-ioredis',
  'floor-node-redis',
  'redlock4',
  'redlock5',
  'sesamecare',
  'redis-semaphore',
  'redlock-universal',
] as const;
export type SubjectId = (typeof SUBJECT_IDS)[number];

/** Named numbers a scenario measured; `NaN` never appears (a missing value is left out). */
export type Metrics = Record<string, number>;

/** Where the job finds Redis. */
export interface RedisTargets {
  /** The main server. */
  readonly url: string;
  /** The counting proxy in front of the main server. */
  readonly countingUrl: string;
  /** Independent servers for the Redlock (quorum) scenario. */
  readonly quorumUrls: readonly string[];
}

export interface JobSpec {
  readonly scenario: ScenarioId;
  readonly subject: SubjectId;
  readonly round: number;
  readonly redis: RedisTargets;
  /** Prefix of every key this job touches, so that jobs never see each other's keys. */
  readonly prefix: string;
}

export interface JobResult {
  readonly metrics: Metrics;
  /** Per-worker acquisition counts (contended scenarios). */
  readonly perWorker?: readonly number[];
  /** Commands seen on the wire, by name, per operation (commands scenario). */
  readonly commands?: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly notes?: readonly string[];
}

/** Command name (upper case) → how many the proxy has forwarded so far. */
export type WireCounts = Readonly<Record<string, number>>;

export type ChildMessage =
  | { readonly type: 'result'; readonly result: JobResult }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'counts?'; readonly id: number };

export type ParentMessage = { readonly type: 'counts'; readonly id: number; readonly counts: WireCounts };

export function isScenarioId(value: string): value is ScenarioId {
  return (SCENARIO_IDS as readonly string[]).includes(value);
}

export function isSubjectId(value: string): value is SubjectId {
  return (SUBJECT_IDS as readonly string[]).includes(value);
}
