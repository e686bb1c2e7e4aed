/** redlock 5.0.0-beta.2, installed as `redlock5` (npm's `latest` redlock is still 4.x). */
import Redlock, { ExecutionError } from 'redlock5';
import { redlockFamilySubject } from './redlock-family.js';
import type { Subject } from './types.js';

export const redlock5: Subject = redlockFamilySubject({
  create: (clients, settings) => new Redlock(clients, settings),
  isGiveUp: (error) => error instanceof ExecutionError,
});
