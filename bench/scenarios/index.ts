/** Every scenario's implementation, by id (loaded only inside a job process). */
import type { ScenarioId } from '../jobs.js';
import { commands } from './commands.js';
import { contendedCommon, contendedDefaults, contendedThink } from './contended.js';
import { failedAttempt } from './failed-attempt.js';
import { manyHeld } from './many-held.js';
import { parallel } from './parallel.js';
import { primitives } from './primitives.js';
import { quorum } from './quorum.js';
import type { Scenario } from './types.js';
import { uncontended } from './uncontended.js';

export const SCENARIOS: Readonly<Record<ScenarioId, Scenario>> = {
  uncontended,
  parallel,
  'contended-common': contendedCommon,
  'contended-defaults': contendedDefaults,
  'contended-think': contendedThink,
  'failed-attempt': failedAttempt,
  quorum,
  'many-held': manyHeld,
  primitives,
  commands,
};
