import { runConformanceSuite } from '@lock/testing';
import { glideAdapter } from './adapter.js';

runConformanceSuite(glideAdapter('valkey-glide GlideClient'));
