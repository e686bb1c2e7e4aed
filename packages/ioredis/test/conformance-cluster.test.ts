import { runConformanceSuite } from '@lock/test-suite';
import { Cluster } from 'ioredis';
import { ioredisClusterAdapter } from './adapter.js';

// The same suite on a real 3-primary, 3-replica Redis Cluster, through ioredis's Cluster.
runConformanceSuite(ioredisClusterAdapter('ioredis 6 Cluster', Cluster));
