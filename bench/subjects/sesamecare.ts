/** @sesamecare-oss/redlock: a maintained fork of redlock 5 with the same API. */
import { ExecutionError, Redlock } from '@sesamecare-oss/redlock';
import { redlockFamilySubject } from './redlock-family.js';
import type { Subject } from './types.js';

export const sesamecare: Subject = redlockFamilySubject({
  create: (clients, settings) => new Redlock(clients, settings),
  isGiveUp: (error) => error instanceof ExecutionError,
});
