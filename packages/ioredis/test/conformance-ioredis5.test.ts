import { runConformanceSuite, runSubscriberSuite } from '@lock/test-suite';
import { Redis } from 'ioredis5';
import { ioredisAdapter, ioredisSubscriberAdapter } from './adapter.js';

// ioredis 5 is still the most installed major; the peer range promises it works.
runConformanceSuite(ioredisAdapter('ioredis 5', Redis));
runSubscriberSuite(ioredisSubscriberAdapter('ioredis 5', Redis, 'ioredis5'));
