import { runPrimitivesSuite } from '@lock/testing';
import { glideAdapter } from './adapter.js';

runPrimitivesSuite(glideAdapter('valkey-glide GlideClient'));
