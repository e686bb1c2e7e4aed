/**
 * The targets, checked against the medians of a run. They are reported, never turned
 * into pass/fail tests: a miss is a finding to explain, not a broken build.
 */
import type { CellIndex } from './aggregate.js';
import { count, ms, percent, rate } from './format.js';
import type { ScenarioId, SubjectId } from './jobs.js';
import { labelFor } from './labels.js';
import { SUBJECTS } from './subjects/catalog.js';

export interface TargetOutcome {
  readonly target: string;
  /** `undefined` when it could not be evaluated (a scenario was skipped or failed). */
  readonly met: boolean | undefined;
  readonly detail: string;
}

const SCENARIO_NAMES = { 'contended-common': 'contended', 'contended-think': 'with think time' } as const;
const LOCKS = SUBJECTS.filter((subject) => subject.role === 'lock');
const PEERS = SUBJECTS.filter((subject) => subject.role === 'peer');
const floorOf = (id: SubjectId): SubjectId =>
  SUBJECTS.find((subject) => subject.id === id)?.client === 'node-redis'
    ? 'floor-node-redis'
    : 'floor-ioredis';

/** Judges a target once all its inputs were measured. */
function check<T extends number[]>(
  target: string,
  inputs: { [K in keyof T]: number | undefined },
  judge: (...values: T) => { met: boolean; detail: string },
): TargetOutcome {
  if (inputs.some((value) => value === undefined)) return { target, met: undefined, detail: 'not measured' };
  return { target, ...judge(...(inputs as T)) };
}

export function evaluateTargets(
  cells: CellIndex,
  versions: Readonly<Record<string, string>>,
): TargetOutcome[] {
  const label = labelFor(versions);
  const bestPeer = (scenario: 'uncontended' | 'contended-common', metric: string) =>
    PEERS.map((peer) => ({ id: peer.id, value: cells.median(scenario, peer.id, metric) ?? Number.NaN }))
      .filter((entry) => Number.isFinite(entry.value))
      .sort((a, b) => b.value - a.value)[0];
  const uncontendedPeer = bestPeer('uncontended', 'pairsPerSec');
  const contendedPeer = bestPeer('contended-common', 'handoffsPerSec');

  return [
    ...LOCKS.flatMap((lock) => {
      const pairs = cells.median('uncontended', lock.id, 'pairsPerSec');
      const floor = cells.median('uncontended', floorOf(lock.id), 'pairsPerSec');
      return [
        check(`${label(lock.id)}: uncontended within 10% of the raw floor`, [pairs, floor], (mine, raw) => ({
          met: mine >= 0.9 * raw,
          detail: `${rate(mine)} vs ${rate(raw)} pairs/s (${percent(mine / raw)} of the floor)`,
        })),
        check(
          `${label(lock.id)}: uncontended ahead of every peer`,
          [pairs, uncontendedPeer?.value],
          (mine, peer) => ({
            met: mine > peer,
            detail: `${rate(mine)} vs best peer ${uncontendedPeer ? label(uncontendedPeer.id) : ''} ${rate(peer)} pairs/s`,
          }),
        ),
      ];
    }),
    ...LOCKS.flatMap((lock) => [
      check(
        `${label(lock.id)}: hand-offs/s ≥ 3× the best polling peer (common retry policy)`,
        [cells.median('contended-common', lock.id, 'handoffsPerSec'), contendedPeer?.value],
        (mine, peer) => ({
          met: mine >= 3 * peer,
          detail: `${rate(mine)} vs ${contendedPeer ? label(contendedPeer.id) : ''} ${rate(peer)} hand-offs/s (${count(mine / peer)}×)`,
        }),
      ),
      ...(['contended-common', 'contended-think'] as const).map((scenario) =>
        cells.median(scenario, lock.id, 'handoffsPerSec') === 0
          ? {
              target: `${label(lock.id)}: median hand-off wait within 2 round trips (${SCENARIO_NAMES[scenario]})`,
              met: false,
              detail: 'no hand-off at all: the releaser took the lock straight back every time',
            }
          : check(
              `${label(lock.id)}: median hand-off wait within 2 round trips (${SCENARIO_NAMES[scenario]})`,
              [
                cells.median(scenario, lock.id, 'handoffP50'),
                cells.median('uncontended', floorOf(lock.id), 'pingP50'),
              ],
              (wait, roundTrip) => ({
                met: wait <= 2 * roundTrip,
                detail: `${ms(wait)} ms = ${count(wait / roundTrip)} round trips (idle PING p50 ${ms(roundTrip)} ms)`,
              }),
            ),
      ),
    ]),
    ...LOCKS.flatMap((lock) => [
      check(
        `${label(lock.id)}: ≤ 1 command per held lock per renewal interval`,
        [cells.median('many-held', lock.id, 'commandsPerLockPerInterval')],
        // Two decimals: a 3-interval window miscounts by up to about 1 % at its edges.
        (commands) => ({
          met: Math.round(commands * 100) <= 100,
          detail: `${count(commands)} (10,000 locks)`,
        }),
      ),
      check(
        `${label(lock.id)}: event-loop lag p99 < 20 ms with 10,000 held locks`,
        [cells.median('many-held', lock.id, 'lagP99')],
        (lag) => ({ met: lag < 20, detail: `p99 ${ms(lag)} ms` }),
      ),
    ]),
    ...contentionTargets(cells, label),
    safety(cells),
  ];
}

/** The best peer by `metric` in `scenario`: the highest value, or the lowest with `lowest`. */
function bestPeerBy(cells: CellIndex, scenario: ScenarioId, metric: string, lowest = false) {
  return PEERS.map((peer) => ({ id: peer.id, value: cells.median(scenario, peer.id, metric) ?? Number.NaN }))
    .filter((entry) => Number.isFinite(entry.value))
    .sort((a, b) => (lowest ? a.value - b.value : b.value - a.value))[0];
}

/**
 * The contention issue's targets: the plain lock under 16 workers (fairness, script calls, rate,
 * tail), the fair lock's script calls, the semaphore's tail, Redlock against redlock 5, pipelined
 * throughput and uncontended client CPU against the raw floors.
 */
function contentionTargets(cells: CellIndex, label: (id: SubjectId) => string): TargetOutcome[] {
  const plain = LOCKS.filter((lock) => !lock.id.includes('fair'));
  const fair = LOCKS.filter((lock) => lock.id.includes('fair'));
  const common: ScenarioId = 'contended-common';
  const fastestPeer = bestPeerBy(cells, common, 'acquisitionsPerSec');
  const shortestTail = bestPeerBy(cells, common, 'waitP999', true);
  const median = (scenario: ScenarioId, id: SubjectId, metric: string) => cells.median(scenario, id, metric);
  return [
    ...plain.flatMap((lock) => [
      check(`${label(lock.id)}: contended Jain's index ≥ 0.9`, [median(common, lock.id, 'jain')], (jain) => ({
        met: jain >= 0.9,
        detail: `${count(jain)}`,
      })),
      check(
        `${label(lock.id)}: contended, no worker below half the mean`,
        [median(common, lock.id, 'minShare')],
        (share) => ({ met: share >= 0.5, detail: `least served ${count(share)} of the mean` }),
      ),
      check(
        `${label(lock.id)}: contended ≤ 2 EVALSHA per acquisition`,
        [median(common, lock.id, 'scriptCallsPerAcquisition')],
        (calls) => ({ met: Math.round(calls * 100) <= 200, detail: `${count(calls)}` }),
      ),
      check(
        `${label(lock.id)}: contended acquisitions/s ≥ the best peer`,
        [median(common, lock.id, 'acquisitionsPerSec'), fastestPeer?.value],
        (mine, peer) => ({
          met: mine >= peer,
          detail: `${rate(mine)} vs ${fastestPeer ? label(fastestPeer.id) : ''} ${rate(peer)} (${percent(mine / peer)})`,
        }),
      ),
      check(
        `${label(lock.id)}: contended wait p99.9 ≤ the best peer's`,
        [median(common, lock.id, 'waitP999'), shortestTail?.value],
        (mine, peer) => ({
          met: mine <= peer,
          detail: `${ms(mine)} vs ${shortestTail ? label(shortestTail.id) : ''} ${ms(peer)} ms`,
        }),
      ),
      check(
        `${label(lock.id)}: semaphore wait p99 ≤ redis-semaphore's`,
        [
          median('primitives', lock.id, 'semaphoreWaitP99'),
          median('primitives', 'redis-semaphore', 'semaphoreWaitP99'),
        ],
        (mine, peer) => ({ met: mine <= peer, detail: `${ms(mine)} vs ${ms(peer)} ms` }),
      ),
      check(
        `${label(lock.id)}: Redlock pairs/s ≥ redlock 5`,
        [median('quorum', lock.id, 'pairsPerSec'), median('quorum', 'redlock5', 'pairsPerSec')],
        (mine, peer) => ({
          met: mine >= peer,
          detail: `${rate(mine)} vs ${rate(peer)} (${percent(mine / peer)})`,
        }),
      ),
      check(
        `${label(lock.id)}: Redlock client CPU per pair ≤ redlock 5's`,
        [median('quorum', lock.id, 'cpuUsPerPair'), median('quorum', 'redlock5', 'cpuUsPerPair')],
        (mine, peer) => ({
          met: mine <= peer,
          detail: `${count(mine)} vs ${count(peer)} µs (${count(mine / peer)}×)`,
        }),
      ),
      check(
        `${label(lock.id)}: parallel pairs/s ≥ 0.9× the raw floor`,
        [median('parallel', lock.id, 'pairsPerSec'), median('parallel', floorOf(lock.id), 'pairsPerSec')],
        (mine, raw) => ({
          met: mine >= 0.9 * raw,
          detail: `${rate(mine)} vs ${rate(raw)} (${percent(mine / raw)})`,
        }),
      ),
      check(
        `${label(lock.id)}: uncontended client CPU per pair ≤ ${floorOf(lock.id) === 'floor-ioredis' ? '1.1' : '1.2'}× the raw floor`,
        [
          median('uncontended', lock.id, 'cpuUsPerPair'),
          median('uncontended', floorOf(lock.id), 'cpuUsPerPair'),
        ],
        (mine, raw) => ({
          met: mine <= (floorOf(lock.id) === 'floor-ioredis' ? 1.1 : 1.2) * raw,
          detail: `${count(mine)} vs ${count(raw)} µs (${count(mine / raw)}×)`,
        }),
      ),
    ]),
    ...fair.map((lock) =>
      check(
        `${label(lock.id)}: contended ≤ 1.5 EVALSHA per acquisition`,
        [median(common, lock.id, 'scriptCallsPerAcquisition')],
        (calls) => ({ met: calls <= 1.5, detail: `${count(calls)} (one script to ask, one to give back)` }),
      ),
    ),
  ];
}

function safety(cells: CellIndex): TargetOutcome {
  const overlaps = SUBJECTS.flatMap((subject) =>
    (['contended-common', 'contended-defaults', 'contended-think'] as const).flatMap(
      (scenario) => cells.get(scenario, subject.id)?.metrics.overlaps?.values ?? [],
    ),
  );
  return {
    target: 'safety: no overlapping holds in any contended run',
    met: overlaps.length === 0 ? undefined : overlaps.every((value) => value === 0),
    detail: `${overlaps.reduce((a, b) => a + b, 0)} overlaps in ${overlaps.length} runs`,
  };
}
