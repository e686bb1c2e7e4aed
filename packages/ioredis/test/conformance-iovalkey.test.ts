import { runConformanceSuite, runSubscriberSuite } from '@lock/test-suite';
import { Redis } from 'iovalkey';
import { ioredisAdapter, ioredisSubscriberAdapter } from './adapter.js';

// iovalkey is Valkey's fork of ioredis: the same adapter takes it, as its README says.
runConformanceSuite(ioredisAdapter('iovalkey', Redis));
runSubscriberSuite(ioredisSubscriberAdapter('iovalkey', Redis, 'iovalkey'));
