import { runOneHandleSuite } from '@lock/test-suite';
import { Redis } from 'ioredis';
import { ioredisAdapter } from './adapter.js';

runOneHandleSuite(ioredisAdapter('ioredis 6', Redis));
