/**
 * Every knob of the benchmark in one place: how long each scenario runs, how many workers and
 * locks it uses, and the retry policy that all libraries share in the "common policy" run.
 * Durations are in milliseconds. The whole `pnpm bench` (5 rounds) is sized to finish in about
 * 6–8 minutes on a 2-core machine: each job is short, so that the rounds can be many.
 */

/**
 * How many times each subject × scenario runs, each in a fresh process; medians are quoted with
 * the range of the runs. Throughput on a shared virtual machine moves by a third between runs of
 * the same code, so a median needs at least 5 short, interleaved runs to mean anything.
 */
export const ROUNDS = positiveIntegerFromEnv('BENCH_ROUNDS', 5);

/** TTL of every lock in the timed scenarios (long enough never to expire during a run). */
export const LOCK_TTL = 10_000;

/**
 * Warm-ups give the JIT time to settle: in its first second a fresh process runs @lock at a third
 * of its steady rate, the raw floor at two thirds. The measured windows are short; the rounds
 * make up for it.
 */
export const UNCONTENDED = { warmupMs: 600, durationMs: 500, pingMs: 250 } as const;

export const PARALLEL = { concurrency: 64, warmupMs: 200, durationMs: 500 } as const;

/**
 * Contended runs: `durationMs` with the common retry policy, `shortMs` for the library-defaults
 * run and for the think-time run (the hand-off measurement of the former handoff.ts: after each
 * release the worker pauses `thinkMs`, so that the releaser does not simply take the lock again).
 */
export const CONTENDED = {
  workers: 16,
  holdMs: 1,
  thinkMs: 5,
  warmupMs: 150,
  durationMs: 800,
  shortMs: 500,
} as const;

/** The retry policy every library gets in the "common policy" contended run. */
export const COMMON_RETRY = { delayMs: 50, jitterMs: 25, budgetMs: 10_000 } as const;

export const FAILED_ATTEMPT = { warmupMs: 150, durationMs: 250 } as const;

/**
 * A Redlock pair runs several times the code of a single-server one, so it needs a longer warm-up
 * than its few hundred pairs a second would suggest: after 200 ms, @lock's and redlock's Redlock
 * still cost two to three times the client CPU per pair they cost once warm.
 */
export const QUORUM = { servers: 3, warmupMs: 500, durationMs: 400 } as const;

/**
 * Many held locks: every lock has the same ttl and renews once per `intervalMs`, and the run
 * watches `intervals` of them after all locks are held. redlock-universal cannot be told its
 * interval (it renews at 80 % of the ttl), so it renews less often and is watched for fewer of
 * its own intervals.
 */
export const MANY_HELD = {
  locks: 10_000,
  acquireConcurrency: 500,
  ttlMs: 3_000,
  intervalMs: 1_000,
  intervals: 3,
} as const;

/**
 * Primitives, contended: `workers` workers (own connection each) on one semaphore of `limit`
 * permits, then on one read-write lock (one operation in `writeEvery` a write), each part
 * `durationMs` after `warmupMs`, holding `holdMs`; both wait with the common retry policy.
 */
export const PRIMITIVES = {
  workers: 16,
  limit: 4,
  writeEvery: 8,
  holdMs: 1,
  warmupMs: 150,
  durationMs: 700,
} as const;

/** Commands counted on the wire, in a separate untimed run of each subject. */
export const COMMANDS = { pairs: 100, failedAttempts: 100, contendedMs: 300 } as const;

function positiveIntegerFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
}
