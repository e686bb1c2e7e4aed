import { runConformanceSuite, runSubscriberSuite } from '@lock/test-suite';
import { createClient } from 'redis';
import { nodeRedisAdapter, nodeRedisSubscriberAdapter } from './adapter.js';

runConformanceSuite(nodeRedisAdapter('node-redis 6', createClient));
runSubscriberSuite(nodeRedisSubscriberAdapter('node-redis 6', createClient, 'redis'));
