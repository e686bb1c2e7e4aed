/**
 * Every subject's implementation, by id, loaded on demand: a job process loads only the library
 * it measures, which keeps its start-up short and its heap free of the others.
 */
import type { SubjectId } from '../jobs.js';
import type { Subject } from './types.js';

export const IMPLEMENTATIONS: Readonly<Record<SubjectId, () => Promise<Subject>>> = {
  'lock-ioredis': async () => (await import('./lock-ioredis.js')).lockOverIoredis,
  'lock-node-redis': async () => (await import('./lock-node-redis.js')).lockOverNodeRedis,
  'lock-fair-ioredis': async () => (await import('./lock-ioredis.js')).fairLockOverIoredis,
  'floor-ioredis': async () => (await import('./floor-ioredis.js')).floorOverIoredis,
  'floor-node-redis': async () => (await import('./floor-node-redis.js')).floorOverNodeRedis,
  redlock4: async () => (await import('./redlock4.js')).redlock4,
  redlock5: async () => (await import('./redlock5.js')).redlock5,
  sesamecare: async () => (await import('./sesamecare.js')).sesamecare,
  'redis-semaphore': async () => (await import('./redis-semaphore.js')).redisSemaphore,
  'redlock-universal': async () => (await import('./redlock-universal.js')).redlockUniversal,
};
