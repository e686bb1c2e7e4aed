import { runConformanceSuite } from '@lock/test-suite';
import { createCluster } from 'redis4';
import { nodeRedisClusterAdapter } from './adapter.js';

// node-redis 4 routes `cluster.evalSha()` to a random node: this proves the adapter does not rely
// on it (scripts go through `sendCommand` with the lock's key as routing key).
runConformanceSuite(nodeRedisClusterAdapter('node-redis 4 cluster', createCluster));
