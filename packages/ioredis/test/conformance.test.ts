import { runConformanceSuite, runSubscriberSuite } from '@lock/test-suite';
import { Redis } from 'ioredis';
import { ioredisAdapter, ioredisSubscriberAdapter } from './adapter.js';

runConformanceSuite(ioredisAdapter('ioredis 6', Redis));
runSubscriberSuite(ioredisSubscriberAdapter('ioredis 6', Redis, 'ioredis'));
