import { runPrimitivesSuite } from '@lock/testing';
import { createClient } from 'redis';
import { nodeRedisAdapter } from './adapter.js';

runPrimitivesSuite(nodeRedisAdapter('node-redis 6', createClient));
