import { runConformanceSuite, runSubscriberSuite } from '@lock/testing';
import { createClient } from 'redis';
import { nodeRedisAdapter, nodeRedisSubscriberAdapter } from './adapter.js';

runConformanceSuite(nodeRedisAdapter('node-redis 6', createClient));
runSubscriberSuite(nodeRedisSubscriberAdapter('node-redis 6', createClient, 'redis'));
