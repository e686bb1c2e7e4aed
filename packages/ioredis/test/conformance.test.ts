import { runConformanceSuite } from '@lock/testing';
import { Redis } from 'ioredis';
import { ioredisAdapter } from './adapter.js';

runConformanceSuite(ioredisAdapter('ioredis 6', Redis));
