import { runMultiResourceSuite } from '@lock/testing';
import { Redis } from 'ioredis';
import { ioredisAdapter } from './adapter.js';

runMultiResourceSuite(ioredisAdapter('ioredis 6', Redis));
