/**
 * Model-based test of ONE lock handle under concurrent calls: random acquire (and re-entry),
 * release, extend (add or replace, small ms) and status calls are fired at one handle WITHOUT
 * awaiting between them, some in the same tick, some a few ms apart, while its auto-renewal (short
 * ttl and renewal interval) ticks underneath (an extend can also be fired in the very tick a
 * renewal is sent), and while a second client keeps trying to take the same lock. Real Redis, both
 * clients.
 *
 * What must hold, whatever the interleaving:
 * - every call settles, with a value or a typed error (LockMisuseError, LockAcquireError,
 *   LockRedisError);
 * - never two holders at once that do not know it: when one side takes the lock, the other side
 *   has been told its hold ended (signal aborted), or has a release() in flight;
 * - the handle's belief adds up: `holdCount` is the entries minus the releases that resolved
 *   `true`, a `release()` called while the handle's own first acquire is in flight cancels that
 *   acquire (`LOCK_ACQUIRE_ABORTED`, and it resolves `false`), and `isHeld`, `state`,
 *   `holdCount` and `signal` agree with each other;
 * - once everything settled, the belief matches Redis (`Locker.inspect`, and the raw hash
 *   `owner`/`count` and PTTL): a handle that believes it holds shows as the owner with its count
 *   (or is told within a timer's lag), and a hold of its token that it does not believe in dies
 *   out by its own expiry instead of being kept alive.
 */
import {
  type Lock,
  LockAcquireError,
  Locker,
  LockMisuseError,
  type LockOptions,
  LockRedisError,
  type ScriptRunner,
} from '@lock/core';
import type { ReleaseNotifier } from '@lock/core/adapter';
import { type ConnectedClient, elapse, provisionRedis, type RedisInstance } from '@lock/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_KINDS, type ClientKind, connectClient } from '../src/clients.js';
import { uniqueName } from '../src/names.js';

/** Runs per client; together with shrinking bounded by TIME_LIMIT, the file stays well under 60 s. */
const NUM_RUNS = 60;
const TIME_LIMIT = 20_000;
/** How late a handle may learn of an expiry by its own deadline timer on a loaded machine, in ms. */
const TIMER_LAG = 250;
/** The longest any one call may take to settle before the run counts it as hung, in ms. */
const SETTLE_WITHIN = 10_000;
const PREFIX = 'one-handle-model:';

type Status = 'isLockedByMe' | 'isLockedByAnyone' | 'remainingTime';
type Command =
  | { readonly op: 'acquire' }
  | { readonly op: 'release' }
  | { readonly op: 'extend'; readonly ms: number; readonly replace: boolean }
  /** An extend fired in the same tick as the handle's next renewal is sent (if one comes). */
  | { readonly op: 'extendOnRenewal'; readonly ms: number; readonly replace: boolean }
  | { readonly op: 'status'; readonly status: Status }
  /** Lets time pass before the next call is fired; the calls already fired are not awaited. */
  | { readonly op: 'pause'; readonly ms: number };

interface Scenario {
  /** The first acquire is awaited before the other calls are fired. */
  readonly startHeld: boolean;
  readonly ttl: number;
  readonly reentrant: boolean;
  readonly autoRenewal: boolean;
  /** The renewal interval as a share of the longest one the ttl allows. */
  readonly renewalShare: number;
  readonly retryCount: number;
  readonly retryDelay: number;
  readonly commands: readonly Command[];
  /** How long the contender keeps each hold it gets, in turn, in ms. */
  readonly contenderHolds: readonly number[];
  /** How long the contender rests before it tries again after each hold (and at the start), in ms. */
  readonly contenderRests: readonly number[];
}

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 5, arbitrary: fc.constant<Command>({ op: 'acquire' }) },
  { weight: 3, arbitrary: fc.constant<Command>({ op: 'release' }) },
  {
    weight: 4,
    arbitrary: fc
      .record({ ms: fc.integer({ min: 20, max: 150 }), replace: fc.boolean() })
      .map((c): Command => ({ op: 'extend', ...c })),
  },
  {
    weight: 3,
    arbitrary: fc
      .record({ ms: fc.integer({ min: 20, max: 150 }), replace: fc.boolean() })
      .map((c): Command => ({ op: 'extendOnRenewal', ...c })),
  },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom<Status>('isLockedByMe', 'isLockedByAnyone', 'remainingTime')
      .map((status): Command => ({ op: 'status', status })),
  },
  { weight: 3, arbitrary: fc.constantFrom(0, 3, 15, 40, 90).map((ms): Command => ({ op: 'pause', ms })) },
);
const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  startHeld: fc.oneof(
    { weight: 2, arbitrary: fc.constant(true) },
    { weight: 1, arbitrary: fc.constant(false) },
  ),
  ttl: fc.integer({ min: 60, max: 200 }),
  reentrant: fc.boolean(),
  autoRenewal: fc.oneof(
    { weight: 3, arbitrary: fc.constant(true) },
    { weight: 1, arbitrary: fc.constant(false) },
  ),
  renewalShare: fc.double({ min: 0.2, max: 0.9, noNaN: true }),
  retryCount: fc.integer({ min: 0, max: 3 }),
  retryDelay: fc.integer({ min: 5, max: 30 }),
  commands: fc.array(commandArb, { minLength: 2, maxLength: 30, size: 'max' }),
  contenderHolds: fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 5 }),
  contenderRests: fc.array(fc.integer({ min: 5, max: 80 }), { minLength: 1, maxLength: 5 }),
});

/** Core's safety margins (its `clockDrift` and `renewalMargin`), for a renewal interval it accepts. */
const clockDrift = (ttl: number) => Math.floor(ttl * 0.01) + 2;
const renewalMargin = (ttl: number) => Math.max(5, Math.floor(ttl / 10));

function lockOptionsOf(scenario: Scenario): LockOptions {
  const longest = scenario.ttl - clockDrift(scenario.ttl) - renewalMargin(scenario.ttl);
  return {
    ttl: scenario.ttl,
    reentrant: scenario.reentrant,
    autoRenewal: scenario.autoRenewal,
    ...(scenario.autoRenewal
      ? { renewalInterval: Math.max(5, Math.floor(longest * scenario.renewalShare)) }
      : {}),
    retryCount: scenario.retryCount,
    retryDelay: scenario.retryDelay,
    retryJitter: Math.floor(scenario.retryDelay / 2),
  };
}

/** The typed errors a call of the handle may end with under concurrency. */
function isExpectedError(error: unknown): boolean {
  return (
    LockMisuseError.isInstance(error) ||
    LockAcquireError.isInstance(error) ||
    LockRedisError.isInstance(error)
  );
}

type Outcome = { readonly value: unknown } | { readonly error: unknown } | { readonly hung: true };

/** One fired call: what it was, the handle's state when it was made, and how it settled. */
interface Call {
  readonly index: number;
  readonly command: Exclude<Command, { op: 'pause' }>;
  readonly stateAtCall: Lock['state'];
  readonly promise: Promise<unknown>;
  /** For a release made while the first acquire was in flight: that acquire's call. */
  cancels?: Call;
  outcome?: Outcome;
  /** Resolves once `outcome` is set. */
  settled?: Promise<void>;
}

/** Resolves after one pass of the timer phase: any deadline timer already due has fired. */
function dueTimersFired(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1));
}

function settle(call: Call): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => resolve({ hung: true }), SETTLE_WITHIN);
  });
  return Promise.race([
    call.promise.then(
      (value): Outcome => ({ value }),
      (error: unknown): Outcome => ({ error }),
    ),
    hung,
  ]).then((outcome) => {
    clearTimeout(timer);
    call.outcome = outcome;
  });
}

/** The handle's belief, as one comparable value. */
function beliefOf(lock: Lock) {
  return {
    state: lock.state,
    isHeld: lock.isHeld,
    holdCount: lock.holdCount,
    aborted: lock.signal.aborted,
  };
}

function describeOutcome(outcome: Outcome | undefined): string {
  if (outcome === undefined) return 'unsettled';
  if ('hung' in outcome) return 'hung';
  if ('value' in outcome) return `→ ${JSON.stringify(outcome.value)}`;
  const { error } = outcome;
  return `✗ ${LockAcquireError.isInstance(error) || LockMisuseError.isInstance(error) || LockRedisError.isInstance(error) ? `${error.name}(${error.code})` : String(error)}`;
}

interface Tally {
  runs: number;
  calls: number;
  entries: number;
  contenderHolds: number;
  heldAtEnd: number;
  typedErrors: number;
  /** One side took the lock after the other had held it: the overlap check had something to check. */
  handoffs: number;
  /** Releases made while the first acquire was in flight. */
  cancellations: number;
  /** Extends fired in the tick a renewal was sent. */
  sameTickExtends: number;
}

describe.each(CLIENT_KINDS)('model: concurrent calls on one handle (%s)', (kind: ClientKind) => {
  let redis: RedisInstance;
  let client: ConnectedClient;
  /** The contender's own client: another process, as far as the lock can tell. */
  let contenderClient: ConnectedClient;

  beforeAll(async () => {
    redis = await provisionRedis();
    client = await connectClient(kind, redis.url);
    contenderClient = await connectClient(kind, redis.url);
  });

  afterAll(async () => {
    await contenderClient?.close();
    await client?.close();
    await redis?.stop();
  });

  async function runScenario(scenario: Scenario, tally: Tally): Promise<void> {
    tally.runs += 1;
    const name = uniqueName(`one-handle-${kind}`);
    const key = `${PREFIX}{${name}}`;
    // The handle's runner: the client's, except that an armed `extendOnRenewal` is fired right
    // behind the next renewal (an extend of the ttl with replace), on the same connection and in
    // the same tick, so Redis applies the renewal first and the extend last.
    let armedExtend: { index: number; command: Extract<Command, { op: 'extendOnRenewal' }> } | undefined;
    let onRenewalSent = () => {};
    const runner: ScriptRunner & ReleaseNotifier = {
      run(script, keys, args) {
        const reply = client.runner.run(script, keys, args);
        const renewal = script.name === 'extend' && Number(args[1]) === scenario.ttl && Number(args[2]) === 1;
        if (renewal && armedExtend !== undefined) onRenewalSent();
        return reply;
      },
      subscribe: (channel, listener) => client.runner.subscribe(channel, listener),
    };
    const locker = new Locker(runner, { prefix: PREFIX, ...lockOptionsOf(scenario) });
    const contenderLocker = new Locker(contenderClient.runner, { prefix: PREFIX, ttl: 150 });
    const handle = locker.createLock(name);
    const startedAt = performance.now();
    const log: string[] = [];
    const note = (line: string) => log.push(`${(performance.now() - startedAt).toFixed(1)} ms: ${line}`);
    const violations: string[] = [];
    const violation = (what: string) => {
      violations.push(what);
      note(`VIOLATION ${what}`);
    };

    let handleReleasesInFlight = 0;
    const contender: { lock?: Lock; releasing: boolean; stop: boolean } = { releasing: false, stop: false };

    /**
     * `taker` just got the lock in Redis: the other side must have been told its hold ended, or be
     * releasing it. Its own deadline timer may fire in the same instant, so due timers go first.
     */
    const checkOtherSide = async (taker: 'handle' | 'contender') => {
      const other = taker === 'handle' ? contender.lock : handle;
      const releasing = () => (taker === 'handle' ? contender.releasing : handleReleasesInFlight > 0);
      if (other === undefined || other.state === 'unlocked' || other.state === 'acquiring') return;
      tally.handoffs += 1;
      const releasingAtTake = releasing();
      await dueTimersFired();
      if (other.isHeld && !other.signal.aborted && !releasingAtTake && !releasing()) {
        violation(
          `the ${taker} took the lock while the ${taker === 'handle' ? 'contender' : 'handle'} still believed it held it (${JSON.stringify(beliefOf(other))})`,
        );
      }
    };

    const contending = (async () => {
      let turn = 0;
      const rest = () => elapse(scenario.contenderRests[turn % scenario.contenderRests.length] ?? 0);
      await rest();
      while (!contender.stop) {
        const lock = contenderLocker.createLock(name);
        const acquired = await lock.acquire().catch((error: unknown) => {
          if (!isExpectedError(error)) throw error;
          return false;
        });
        if (!acquired) {
          await elapse(3);
          continue;
        }
        tally.contenderHolds += 1;
        contender.lock = lock;
        note(`contender took it (${lock.token.slice(0, 6)})`);
        await checkOtherSide('contender');
        await elapse(scenario.contenderHolds[turn % scenario.contenderHolds.length] ?? 0);
        contender.releasing = true;
        await lock.release().catch((error: unknown) => {
          if (!isExpectedError(error)) throw error;
          return false;
        });
        contender.releasing = false;
        contender.lock = undefined;
        note('contender released');
        await rest();
        turn += 1;
      }
    })();

    // Fire the commands, never awaiting a call before firing the next one (except a first acquire
    // in `startHeld` runs, so that most runs exercise a held, renewing handle).
    const commands: readonly Command[] = scenario.startHeld
      ? [{ op: 'acquire' }, ...scenario.commands]
      : scenario.commands;
    const calls: Call[] = [];
    let firstAcquire: Call | undefined;
    /** Fires one call at the handle and records it; never waits for it. */
    const fire = (index: number, command: Call['command'], when = ''): Call => {
      const stateAtCall = handle.state;
      let promise: Promise<unknown>;
      switch (command.op) {
        case 'acquire':
          promise = handle.acquire().then((acquired) => {
            if (acquired) {
              tally.entries += 1;
              note(`acquire #${index} → true (count ${handle.holdCount})`);
              void checkOtherSide('handle');
            }
            return acquired;
          });
          break;
        case 'release':
          handleReleasesInFlight += 1;
          promise = handle.release().finally(() => {
            handleReleasesInFlight -= 1;
          });
          break;
        case 'extend':
        case 'extendOnRenewal': {
          // Never the ttl itself: the runner tells renewals (ttl, replace) apart by it.
          const ms = command.ms === scenario.ttl ? command.ms + 1 : command.ms;
          promise = handle.extend(ms, { replace: command.replace });
          break;
        }
        case 'status':
          promise = handle[command.status]();
          break;
      }
      const call: Call = { index, command, stateAtCall, promise };
      if (command.op === 'acquire' && stateAtCall === 'unlocked') firstAcquire = call;
      if (command.op === 'release' && stateAtCall === 'acquiring') call.cancels = firstAcquire;
      calls.push(call);
      note(`fired #${index} ${JSON.stringify(command)} in state ${stateAtCall}${when}`);
      call.settled = settle(call).then(() => {
        note(`settled #${index} ${describeOutcome(call.outcome)}`);
      });
      return call;
    };
    onRenewalSent = () => {
      const armed = armedExtend;
      armedExtend = undefined;
      if (armed === undefined) return;
      tally.sameTickExtends += 1;
      fire(armed.index, armed.command, ', in the tick of a renewal');
    };

    for (const [index, command] of commands.entries()) {
      if (command.op === 'pause') {
        await elapse(command.ms);
      } else if (command.op === 'extendOnRenewal') {
        armedExtend = { index, command };
        note(`armed #${index} ${JSON.stringify(command)} for the next renewal`);
      } else {
        const call = fire(index, command);
        if (index === 0 && scenario.startHeld) await call.settled;
      }
    }
    // Until every call settled, including one a renewal fired meanwhile; an extend still armed
    // then is dropped (no renewal came), so nothing is fired after the checks begin.
    for (let count = -1; count !== calls.length; ) {
      count = calls.length;
      await Promise.all(calls.map((call) => call.settled));
    }
    armedExtend = undefined;
    tally.calls += calls.length;

    contender.stop = true;
    await contending;

    try {
      // Every call settled, with a value of its kind or a typed error.
      for (const call of calls) {
        const { outcome } = call;
        if (outcome === undefined || 'hung' in outcome) {
          violation(
            `#${call.index} ${JSON.stringify(call.command)} did not settle within ${SETTLE_WITHIN} ms`,
          );
        } else if ('error' in outcome) {
          if (isExpectedError(outcome.error)) tally.typedErrors += 1;
          else
            violation(
              `#${call.index} ${JSON.stringify(call.command)} failed untyped: ${String(outcome.error)}`,
            );
        } else {
          const expected =
            call.command.op === 'status' && call.command.status === 'remainingTime' ? 'number' : 'boolean';
          if (typeof outcome.value !== expected) {
            violation(`#${call.index} ${JSON.stringify(call.command)} resolved ${String(outcome.value)}`);
          }
        }
      }

      // A release() made while the first acquire was in flight cancels it.
      for (const call of calls) {
        if (call.cancels === undefined) continue;
        tally.cancellations += 1;
        const acquire = call.cancels;
        const aborted =
          acquire.outcome !== undefined &&
          'error' in acquire.outcome &&
          LockAcquireError.isInstance(acquire.outcome.error) &&
          acquire.outcome.error.code === 'LOCK_ACQUIRE_ABORTED';
        if (!aborted) {
          violation(
            `release #${call.index}, made while acquire #${acquire.index} was in flight, did not cancel it (acquire ${describeOutcome(acquire.outcome)})`,
          );
        }
        if (call.outcome === undefined || !('value' in call.outcome) || call.outcome.value !== false) {
          violation(
            `release #${call.index} during acquire #${acquire.index} ${describeOutcome(call.outcome)}, not false`,
          );
        }
      }

      // The belief adds up: entries minus the releases that counted.
      const resolvedTrue = (op: 'acquire' | 'release') =>
        calls.filter(
          (call) =>
            call.command.op === op &&
            call.outcome !== undefined &&
            'value' in call.outcome &&
            call.outcome.value === true,
        ).length;
      const entries = resolvedTrue('acquire');
      const releases = resolvedTrue('release');
      const belief = beliefOf(handle);
      if (releases > entries) violation(`${releases} releases resolved true for ${entries} entries`);
      if (belief.state === 'held' && belief.holdCount !== entries - releases) {
        violation(
          `holdCount ${belief.holdCount} after ${entries} entries and ${releases} releases that resolved true`,
        );
      }
      if (belief.state === 'released' && releases !== entries) {
        violation(`released after ${entries} entries but ${releases} releases that resolved true`);
      }
      const consistent =
        belief.isHeld === (belief.state === 'held') &&
        (belief.state === 'held'
          ? belief.holdCount >= 1 && !belief.aborted
          : belief.holdCount === 0 &&
            belief.aborted === (belief.state === 'released' || belief.state === 'lost'));
      if (!consistent) violation(`the belief contradicts itself: ${JSON.stringify(belief)}`);
      if (belief.state === 'acquiring') violation('still acquiring after every call settled');

      // The belief matches Redis. Read it between two looks at the belief, so that the belief
      // did not change while Redis was read (a deadline timer can end the hold at any time).
      const snapshot = async () => {
        for (;;) {
          const before = beliefOf(handle);
          const report = await locker.inspect(name);
          const [hash, pttl] = (await Promise.all([
            client.command(['HGETALL', key]),
            client.command(['PTTL', key]),
          ])) as [unknown, unknown];
          const after = beliefOf(handle);
          if (JSON.stringify(before) === JSON.stringify(after))
            return { belief: after, report, hash, pttl: Number(pttl) };
        }
      };
      const seen = await snapshot();
      note(
        `at the end: belief ${JSON.stringify(seen.belief)}, Redis ${JSON.stringify(seen.report)}, pttl ${seen.pttl}`,
      );
      const rawOwner = rawField(seen.hash, 'owner');
      if (
        rawOwner !== undefined &&
        rawOwner === seen.report.owner &&
        Number(rawField(seen.hash, 'count')) !== seen.report.holdCount
      ) {
        violation(`inspect and HGETALL disagree on the count: ${JSON.stringify(seen.hash)}`);
      }
      if (seen.report.owner !== null && seen.report.owner !== handle.token) {
        violation(`Redis shows an owner nobody holds any more: ${seen.report.owner}`);
      }
      const mine = seen.report.owner === handle.token;
      if (seen.belief.isHeld) {
        tally.heldAtEnd += 1;
        if (mine && seen.report.holdCount !== seen.belief.holdCount) {
          violation(`the handle counts ${seen.belief.holdCount} entries, Redis ${seen.report.holdCount}`);
        }
        if (!mine) {
          // Not (or no longer) in Redis: the handle must learn it, by its deadline at the latest.
          const told = await Promise.race([
            new Promise<boolean>((resolve) =>
              handle.signal.addEventListener('abort', () => resolve(true), { once: true }),
            ),
            elapse(TIMER_LAG).then(() => handle.signal.aborted),
          ]);
          if (!told)
            violation(`the handle still believes it holds a lock Redis does not show, ${TIMER_LAG} ms later`);
        }
      } else if (mine) {
        // A hold of this token that the handle does not believe in must die out by its own expiry.
        await elapse(Math.max(0, seen.pttl) + TIMER_LAG);
        const later = await locker.inspect(name);
        if (later.owner === handle.token) {
          violation(
            `a hold of this token outlived its expiry while the handle is ${handle.state}: ${JSON.stringify(later)}`,
          );
        }
      }
    } finally {
      await handle[Symbol.asyncDispose]().catch(() => {});
      await client.command(['DEL', key]);
    }

    if (violations.length > 0) {
      throw new Error(
        `${violations.join('\n')}\nscenario: ${JSON.stringify({ ...lockOptionsOf(scenario) })}\n${log.join('\n')}`,
      );
    }
  }

  it(`holds its invariants over ${NUM_RUNS} random runs of concurrent calls`, async () => {
    const tally: Tally = {
      runs: 0,
      calls: 0,
      entries: 0,
      contenderHolds: 0,
      heldAtEnd: 0,
      typedErrors: 0,
      handoffs: 0,
      cancellations: 0,
      sameTickExtends: 0,
    };
    const startedAt = performance.now();
    const details = await fc.check(
      fc.asyncProperty(scenarioArb, (scenario) => runScenario(scenario, tally)),
      { numRuns: NUM_RUNS, interruptAfterTimeLimit: TIME_LIMIT },
    );
    console.log(
      `one-handle model (${kind}):`,
      JSON.stringify({
        numRuns: details.numRuns,
        interrupted: details.interrupted,
        ...tally,
        ms: Math.round(performance.now() - startedAt),
      }),
    );
    // The shrunk counterexample, and what went wrong in it (violations and the run's event log).
    const failure = details.errorInstance instanceof Error ? details.errorInstance.message : '';
    expect(details.failed, `${fc.defaultReportMessage(details) ?? ''}\n${failure}`).toBe(false);
    // The runs must exercise holds on both sides.
    expect(tally.entries).toBeGreaterThan(0);
    expect(tally.contenderHolds).toBeGreaterThan(0);
    expect(tally.handoffs).toBeGreaterThan(0);
  }, 60_000);
});

/** One field of an HGETALL reply: a flat array (RESP2) or an object/map (RESP3, node-redis). */
function rawField(hash: unknown, field: string): string | undefined {
  if (Array.isArray(hash)) {
    const at = hash.indexOf(field);
    return at >= 0 && at % 2 === 0 ? String(hash[at + 1]) : undefined;
  }
  if (hash instanceof Map) return hash.has(field) ? String(hash.get(field)) : undefined;
  if (typeof hash === 'object' && hash !== null && field in hash) {
    return String((hash as Record<string, unknown>)[field]);
  }
  return undefined;
}
