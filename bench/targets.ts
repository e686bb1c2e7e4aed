/**
 * The targets, checked against the medians of a run. They are reported, never turned
 * into pass/fail tests: a miss is a finding to explain, not a broken build.
 */
import type { CellIndex } from './aggregate.js';
import { count, ms, percent, rate } from './format.js';
import type { SubjectId } from './jobs.js';
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
    safety(cells),
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
