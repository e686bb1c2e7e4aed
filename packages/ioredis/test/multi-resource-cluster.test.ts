import { runMultiResourceSuite } from '@lock/testing';
import { Cluster } from 'ioredis';
import { ioredisClusterAdapter } from './adapter.js';

// Lock sets on a real 3-primary, 3-replica Redis Cluster, through ioredis's Cluster.
runMultiResourceSuite(ioredisClusterAdapter('ioredis 6 Cluster', Cluster));
