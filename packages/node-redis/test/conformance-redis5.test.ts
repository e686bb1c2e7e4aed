import { runConformanceSuite } from '@lock/testing';
import { createClient } from 'redis5';
import { nodeRedisAdapter } from './adapter.js';

// node-redis 5 is inside the peer range; the same suite proves it.
runConformanceSuite(nodeRedisAdapter('node-redis 5', createClient));
