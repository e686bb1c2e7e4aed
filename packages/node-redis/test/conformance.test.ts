import { runConformanceSuite } from '@lock/testing';
import { createClient } from 'redis';
import { nodeRedisAdapter } from './adapter.js';

runConformanceSuite(nodeRedisAdapter('node-redis 6', createClient));
