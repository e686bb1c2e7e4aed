import { runConformanceSuite, runSubscriberSuite } from '@lock/test-suite';
import { createClient } from 'redis4';
import { nodeRedisAdapter, nodeRedisSubscriberAdapter } from './adapter.js';

// node-redis 4 is inside the peer range; the same suite proves it.
runConformanceSuite(nodeRedisAdapter('node-redis 4', createClient));
runSubscriberSuite(nodeRedisSubscriberAdapter('node-redis 4', createClient, 'redis4'));
