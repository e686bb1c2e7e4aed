/**
 * Which jobs a run is made of: every scenario for every subject that can take part in it, once
 * per round (rounds interleaved, A B C … A B C …, so that a change of machine load hits every
 * subject alike), and the untimed command count once. Within a round the subjects of a scenario
 * start one place further along than in the round before, so that no subject always runs first
 * (right after the previous scenario's heaviest job) or last. `BENCH_ONLY` narrows it down for profiling, e.g.
 * `BENCH_ONLY=uncontended:lock-ioredis,many-held`.
 */
import { ROUNDS } from './config.js';
import { SCENARIO_IDS, type ScenarioId, type SubjectId } from './jobs.js';
import { SUBJECTS } from './subjects/catalog.js';

export interface PlannedJob {
  readonly scenario: ScenarioId;
  readonly subject: SubjectId;
  readonly round: number;
}

/** A subject that cannot take part in a scenario, and why. */
export interface Unavailable {
  readonly scenario: ScenarioId;
  readonly subject: SubjectId;
  readonly reason: string;
}

export interface Plan {
  readonly jobs: readonly PlannedJob[];
  readonly unavailable: readonly Unavailable[];
}

export function makePlan(only: string | undefined = process.env.BENCH_ONLY): Plan {
  const filters = (only ?? '')
    .split(',')
    .map((token) => token.trim())
    .filter(Boolean);
  const wanted = (scenario: ScenarioId, subject: SubjectId) =>
    filters.length === 0 ||
    filters.some(
      (filter) => filter === scenario || filter === subject || filter === `${scenario}:${subject}`,
    );

  const jobs: PlannedJob[] = [];
  const unavailable: Unavailable[] = [];
  const timed = SCENARIO_IDS.filter((scenario) => scenario !== 'commands');
  for (let round = 1; round <= ROUNDS; round++) {
    for (const scenario of timed) {
      const taking: SubjectId[] = [];
      for (const subject of SUBJECTS) {
        if (!wanted(scenario, subject.id)) continue;
        const reason = subject.unavailable[scenario];
        if (reason === undefined) taking.push(subject.id);
        else if (round === 1) unavailable.push({ scenario, subject: subject.id, reason });
      }
      for (const subject of rotate(taking, round - 1)) jobs.push({ scenario, subject, round });
    }
  }
  for (const subject of SUBJECTS) {
    if (wanted('commands', subject.id)) jobs.push({ scenario: 'commands', subject: subject.id, round: 1 });
  }
  return { jobs, unavailable };
}

/** `items` starting at index `by` (modulo their length) and wrapping around. */
export function rotate<T>(items: readonly T[], by: number): T[] {
  if (items.length === 0) return [];
  const start = by % items.length;
  return [...items.slice(start), ...items.slice(0, start)];
}
