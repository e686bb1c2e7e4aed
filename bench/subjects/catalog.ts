/**
 * Who is measured: each subject's label, the package whose version is reported, the client it
 * runs on, and the scenarios it cannot take part in (with the reason shown in the tables).
 * Metadata only, so that the orchestrator never loads a peer library itself.
 */
import type { ScenarioId, SubjectId } from '../jobs.js';

export type Role = 'lock' | 'floor' | 'peer';

export interface SubjectInfo {
  readonly id: SubjectId;
  readonly label: string;
  /** The installed package (in bench/node_modules) whose version is reported. */
  readonly packageName: string;
  readonly client: 'ioredis' | 'node-redis';
  readonly role: Role;
  readonly unavailable: Partial<Record<ScenarioId, string>>;
}

const FLOOR_ONLY: Partial<Record<ScenarioId, string>> = {
  'contended-common': 'the floor never waits',
  'contended-defaults': 'the floor never waits',
  'contended-think': 'the floor never waits',
  quorum: 'single server only',
  'many-held': 'no renewal',
  primitives: 'no semaphore/read-write lock',
};

const NO_PRIMITIVES: Partial<Record<ScenarioId, string>> = { primitives: 'no semaphore/read-write lock' };

export const SUBJECTS: readonly SubjectInfo[] = [
  {
    id: 'lock-ioredis',
    label: '@lock + ioredis',
    packageName: '@lock/core',
    client: 'ioredis',
    role: 'lock',
    unavailable: {},
  },
  {
    id: 'lock-node-redis',
    label: '@lock + node-redis',
    packageName: '@lock/core',
    client: 'node-redis',
    role: 'lock',
    unavailable: {},
  },
  {
    id: 'lock-fair-ioredis',
    label: '@lock fair + ioredis',
    packageName: '@lock/core',
    client: 'ioredis',
    role: 'lock',
    unavailable: {
      quorum: 'fair: true is not available with Redlock',
      'many-held': 'renewal is the same script as the plain lock',
      primitives: 'semaphore and read-write lock are never fair: same as the plain lock',
    },
  },
  {
    id: 'floor-ioredis',
    label: 'raw floor (ioredis)',
    packageName: 'ioredis',
    client: 'ioredis',
    role: 'floor',
    unavailable: FLOOR_ONLY,
  },
  {
    id: 'floor-node-redis',
    label: 'raw floor (node-redis)',
    packageName: 'redis',
    client: 'node-redis',
    role: 'floor',
    unavailable: FLOOR_ONLY,
  },
  {
    id: 'redlock4',
    label: 'redlock',
    packageName: 'redlock',
    client: 'ioredis',
    role: 'peer',
    unavailable: { ...NO_PRIMITIVES, 'many-held': 'no auto-renewal in redlock 4' },
  },
  {
    id: 'redlock5',
    label: 'redlock',
    packageName: 'redlock5',
    client: 'ioredis',
    role: 'peer',
    unavailable: NO_PRIMITIVES,
  },
  {
    id: 'sesamecare',
    label: '@sesamecare-oss/redlock',
    packageName: '@sesamecare-oss/redlock',
    client: 'ioredis',
    role: 'peer',
    unavailable: NO_PRIMITIVES,
  },
  {
    id: 'redis-semaphore',
    label: 'redis-semaphore',
    packageName: 'redis-semaphore',
    client: 'ioredis',
    role: 'peer',
    unavailable: {},
  },
  {
    id: 'redlock-universal',
    label: 'redlock-universal',
    packageName: 'redlock-universal',
    client: 'ioredis',
    role: 'peer',
    unavailable: NO_PRIMITIVES,
  },
];

export function subjectInfo(id: SubjectId): SubjectInfo {
  const info = SUBJECTS.find((subject) => subject.id === id);
  if (info === undefined) throw new Error(`unknown subject ${id}`);
  return info;
}
