import { runConformanceSuite } from '@lock/test-suite';
import { createCluster } from 'redis';
import { nodeRedisClusterAdapter } from './adapter.js';

// The same suite on a real 3-primary, 3-replica Redis Cluster, through node-redis's createCluster.
runConformanceSuite(nodeRedisClusterAdapter('node-redis 6 cluster', createCluster));
