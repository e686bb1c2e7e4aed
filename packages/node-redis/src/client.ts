/** The node-redis client shapes the adapter calls: a `createClient()` client, a `createCluster()` cluster, and the subscriber connection made with `duplicate()`. */
/** The arguments node-redis takes for EVAL and EVALSHA. */
export interface NodeRedisEvalOptions {
  keys: string[];
  arguments: string[];
}

/** The subscriber connection made with `client.duplicate()`. */
export interface NodeRedisLikeSubscriber {
  connect(): Promise<unknown>;
  subscribe(channel: string, listener: (message: string, channel: string) => void): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  on(event: 'error', listener: (error: Error) => void): unknown;
  quit?(): Promise<unknown>;
  close?(): Promise<unknown>;
  /**
   * Closes the connection at once and stops node-redis from reconnecting it (node-redis 5 and 6;
   * node-redis 4 has `disconnect()` for this).
   */
  destroy?(): unknown;
  /** node-redis 4's `destroy()`; deprecated but still there in 5 and 6. */
  disconnect?(): Promise<unknown>;
}

/**
 * The node-redis methods the adapter calls. A connected node-redis v4, v5 or v6 client fits.
 * Without `duplicate`, waiters poll.
 */
export interface NodeRedisLikeClient {
  evalSha(sha1: string, options: NodeRedisEvalOptions): Promise<unknown>;
  eval(script: string, options: NodeRedisEvalOptions): Promise<unknown>;
  duplicate?(): NodeRedisLikeSubscriber;
  /** `WAIT numberOfReplicas timeout`, for the `replicas` lock option (a plain client has it). */
  wait?(numberOfReplicas: number, timeout: number): Promise<number>;
}

/**
 * What the adapter uses of a node-redis cluster (`createCluster()`, v4, v5 or v6), told apart
 * from a client by its `masters`. Scripts go through `sendCommand` with the lock's key as the
 * routing key, because node-redis 4 routes `cluster.evalSha()` to a random node.
 */
export interface NodeRedisLikeCluster {
  /** The cluster's primaries; only its presence is used, to recognise a cluster. */
  readonly masters: readonly unknown[];
  /** Sends `args` to the primary serving `firstKey` (node-redis follows MOVED and ASK). */
  sendCommand(
    firstKey: string | undefined,
    isReadonly: boolean | undefined,
    args: string[],
  ): Promise<unknown>;
  /**
   * A new, unconnected cluster with the same options, for the subscriber. The adapter asks for
   * `minimizeConnections`, so it opens one connection for its subscriptions instead of one per
   * primary.
   */
  duplicate?(overrides?: { minimizeConnections?: boolean }): NodeRedisLikeSubscriber;
}
