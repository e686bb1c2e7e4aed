import { runConformanceSuite, runSubscriberSuite } from '@lock/test-suite';
import { createClient } from 'redis5';
import { nodeRedisAdapter, nodeRedisSubscriberAdapter } from './adapter.js';

// node-redis 5 is inside the peer range; the same suite proves it.
runConformanceSuite(nodeRedisAdapter('node-redis 5', createClient));
runSubscriberSuite(nodeRedisSubscriberAdapter('node-redis 5', createClient, 'redis5'));
