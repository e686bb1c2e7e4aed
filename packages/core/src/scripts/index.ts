/**
 * Every Lua script @lock runs, in one place: one file per primitive, each script named, with its
 * KEYS, ARGV and reply stated above it. Each script is one atomic step on the server, so every
 * operation of every primitive costs one round trip.
 */
import type { LuaScript } from '../port/runner.js';
import { FAIR_ACQUIRE_SCRIPT, FAIR_RELEASE_SCRIPT } from './fair.js';
import { ACQUIRE_SCRIPT, EXTEND_SCRIPT, INSPECT_SCRIPT, RELEASE_SCRIPT } from './mutex.js';
import {
  RW_INSPECT_SCRIPT,
  RW_READ_ACQUIRE_SCRIPT,
  RW_READ_EXTEND_SCRIPT,
  RW_READ_RELEASE_SCRIPT,
  RW_WRITE_ACQUIRE_SCRIPT,
  RW_WRITE_RELEASE_SCRIPT,
} from './read-write-lock.js';
import {
  SEMAPHORE_ACQUIRE_SCRIPT,
  SEMAPHORE_EXTEND_SCRIPT,
  SEMAPHORE_INSPECT_SCRIPT,
  SEMAPHORE_RELEASE_SCRIPT,
} from './semaphore.js';

export { FAIR_ACQUIRE_SCRIPT, FAIR_RELEASE_SCRIPT } from './fair.js';
export { ACQUIRE_SCRIPT, EXTEND_SCRIPT, INSPECT_SCRIPT, RELEASE_SCRIPT } from './mutex.js';
export {
  RW_INSPECT_SCRIPT,
  RW_READ_ACQUIRE_SCRIPT,
  RW_READ_EXTEND_SCRIPT,
  RW_READ_RELEASE_SCRIPT,
  RW_WRITE_ACQUIRE_SCRIPT,
  RW_WRITE_RELEASE_SCRIPT,
} from './read-write-lock.js';
export {
  SEMAPHORE_ACQUIRE_SCRIPT,
  SEMAPHORE_EXTEND_SCRIPT,
  SEMAPHORE_INSPECT_SCRIPT,
  SEMAPHORE_RELEASE_SCRIPT,
} from './semaphore.js';

/** Every script, for preloading and for the SHA-1 test. */
export const ALL_SCRIPTS: readonly LuaScript[] = Object.freeze([
  ACQUIRE_SCRIPT,
  RELEASE_SCRIPT,
  EXTEND_SCRIPT,
  INSPECT_SCRIPT,
  FAIR_ACQUIRE_SCRIPT,
  FAIR_RELEASE_SCRIPT,
  RW_READ_ACQUIRE_SCRIPT,
  RW_READ_RELEASE_SCRIPT,
  RW_READ_EXTEND_SCRIPT,
  RW_WRITE_ACQUIRE_SCRIPT,
  RW_WRITE_RELEASE_SCRIPT,
  RW_INSPECT_SCRIPT,
  SEMAPHORE_ACQUIRE_SCRIPT,
  SEMAPHORE_RELEASE_SCRIPT,
  SEMAPHORE_EXTEND_SCRIPT,
  SEMAPHORE_INSPECT_SCRIPT,
]);
