import { runOneHandleSuite } from '@lock/testing';
import { createClient } from 'redis';
import { nodeRedisAdapter } from './adapter.js';

runOneHandleSuite(nodeRedisAdapter('node-redis 6', createClient));
