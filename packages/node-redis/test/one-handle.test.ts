import { runOneHandleSuite } from '@lock/test-suite';
import { createClient } from 'redis';
import { nodeRedisAdapter } from './adapter.js';

runOneHandleSuite(nodeRedisAdapter('node-redis 6', createClient));
