import { runPrimitivesSuite } from '@lock/test-suite';
import { glideAdapter } from './adapter.js';

runPrimitivesSuite(glideAdapter('valkey-glide GlideClient'));
