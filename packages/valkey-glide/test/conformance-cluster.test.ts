import { runConformanceSuite } from '@lock/test-suite';
import { glideClusterAdapter } from './adapter.js';

// The same suite on a real 3-primary, 3-replica cluster, through GLIDE's cluster client.
runConformanceSuite(glideClusterAdapter('valkey-glide GlideClusterClient', 'one node'));
