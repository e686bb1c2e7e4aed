/**
 * A job process: runs one scenario for one subject, reports the result to the orchestrator over
 * IPC, and exits. Started by run.ts (through the bundle build-child.ts makes), one fresh process
 * per subject × scenario × round.
 */
import {
  type ChildMessage,
  isScenarioId,
  isSubjectId,
  type JobSpec,
  type ParentMessage,
  type WireCounts,
} from './jobs.js';
import { SCENARIOS } from './scenarios/index.js';
import { setWindowProbe } from './scenarios/timing.js';
import { finiteMetrics } from './stats.js';
import { IMPLEMENTATIONS } from './subjects/index.js';

function readSpec(): JobSpec {
  const spec = JSON.parse(process.argv[2] ?? '{}') as Partial<JobSpec>;
  if (typeof spec.scenario !== 'string' || !isScenarioId(spec.scenario)) throw new Error('job: bad scenario');
  if (typeof spec.subject !== 'string' || !isSubjectId(spec.subject)) throw new Error('job: bad subject');
  return spec as JobSpec;
}

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    if (process.send === undefined) reject(new Error('a job runs as a forked process (pnpm bench)'));
    else process.send(message, undefined, {}, (error) => (error ? reject(error) : resolve()));
  });
}

const pending = new Map<number, (counts: WireCounts) => void>();
let nextRequest = 0;
process.on('message', (message: ParentMessage) => {
  if (message.type === 'counts') pending.get(message.id)?.(message.counts);
  pending.delete(message.id);
});

function wireCounts(): Promise<WireCounts> {
  const id = nextRequest++;
  const answer = new Promise<WireCounts>((resolve) => pending.set(id, resolve));
  return send({ type: 'counts?', id }).then(() => answer);
}

/**
 * When profiling, a CPU profile of the timed window alone (not start-up, not the warm-up), with
 * the number of operations done in it, so that its times can be read per operation.
 */
async function profileWindow(file: string): Promise<void> {
  const { Session } = await import('node:inspector/promises');
  const { writeFile } = await import('node:fs/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  // 0.1 ms rather than the default 1 ms: a pair lasts a fraction of a millisecond.
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  setWindowProbe({
    start: async () => {
      await session.post('Profiler.start');
    },
    stop: async (operations) => {
      const { profile } = await session.post('Profiler.stop');
      await writeFile(file, JSON.stringify({ ...profile, operations }));
      session.disconnect();
    },
  });
}

try {
  const spec = readSpec();
  const profileFile = process.env.BENCH_PROFILE_FILE;
  if (profileFile !== undefined && profileFile !== '') await profileWindow(profileFile);
  const subject = await IMPLEMENTATIONS[spec.subject]();
  const result = await SCENARIOS[spec.scenario]({ spec, subject, wireCounts });
  await send({ type: 'result', result: { ...result, metrics: finiteMetrics(result.metrics) } });
  process.exit(0);
} catch (error) {
  await send({
    type: 'failed',
    message: error instanceof Error ? (error.stack ?? error.message) : String(error),
  });
  process.exit(1);
}
