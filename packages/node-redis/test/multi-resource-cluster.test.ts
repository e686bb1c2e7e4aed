import { runMultiResourceSuite } from '@lock/testing';
import { createCluster } from 'redis';
import { nodeRedisClusterAdapter } from './adapter.js';

// Lock sets on a real 3-primary, 3-replica Redis Cluster, through node-redis's createCluster.
runMultiResourceSuite(nodeRedisClusterAdapter('node-redis 6 cluster', createCluster));
