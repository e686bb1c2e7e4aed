import { runMultiResourceSuite } from '@lock/testing';
import { createClient } from 'redis';
import { nodeRedisAdapter } from './adapter.js';

runMultiResourceSuite(nodeRedisAdapter('node-redis 6', createClient));
