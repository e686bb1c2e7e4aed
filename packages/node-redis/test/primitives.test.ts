import { runPrimitivesSuite } from '@lock/test-suite';
import { createClient } from 'redis';
import { nodeRedisAdapter } from './adapter.js';

runPrimitivesSuite(nodeRedisAdapter('node-redis 6', createClient));
