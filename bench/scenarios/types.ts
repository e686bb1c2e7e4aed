/** What a scenario gets inside its job process, and what it returns. */
import type { JobResult, JobSpec, WireCounts } from '../jobs.js';
import type { Subject } from '../subjects/types.js';

export interface JobContext {
  readonly spec: JobSpec;
  readonly subject: Subject;
  /** The counting proxy's totals so far (connections to `spec.redis.countingUrl` go through it). */
  wireCounts(): Promise<WireCounts>;
}

export type Scenario = (context: JobContext) => Promise<JobResult>;
