import { runPrimitivesSuite } from '@lock/test-suite';
import { Redis } from 'ioredis';
import { ioredisAdapter } from './adapter.js';

runPrimitivesSuite(ioredisAdapter('ioredis 6', Redis));
