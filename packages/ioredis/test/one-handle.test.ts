import { runOneHandleSuite } from '@lock/testing';
import { Redis } from 'ioredis';
import { ioredisAdapter } from './adapter.js';

runOneHandleSuite(ioredisAdapter('ioredis 6', Redis));
