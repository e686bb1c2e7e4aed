import { runConformanceSuite } from '@lock/test-suite';
import { glideAdapter } from './adapter.js';

runConformanceSuite(glideAdapter('valkey-glide GlideClient'));
