/** The ioredis client shapes the adapter calls: a `Redis` or `Cluster`, and the subscriber connection its `duplicate()` makes. */
/** The subscriber connection made with `client.duplicate()`. */
export interface IoredisLikeSubscriber {
  subscribe(channel: string): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  on(event: 'message', listener: (channel: string, message: string) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'ready', listener: () => void): unknown;
  removeListener?(event: 'ready', listener: () => void): unknown;
  /** Starts connecting a connection made with `lazyConnect`. */
  connect?(): Promise<unknown>;
  quit(): Promise<unknown>;
  /**
   * Closes the connection at once and stops ioredis from reconnecting it: what `runner.close()`
   * does instead of QUIT when the connection is not ready, and when QUIT fails or does not answer.
   */
  disconnect?(): void;
  /** ioredis's connection state (`'ready'`, `'reconnecting'`, `'end'`, ...). */
  readonly status?: string;
}

/**
 * The ioredis methods the adapter calls. An ioredis `Redis` or `Cluster` (v5 or v6) fits, and so
 * does any client with the same signatures (e.g. iovalkey). Without `duplicate`, waiters poll.
 */
export interface IoredisLikeClient {
  evalsha(sha1: string, numkeys: number, ...keysAndArgs: string[]): Promise<unknown>;
  eval(script: string, numkeys: number, ...keysAndArgs: string[]): Promise<unknown>;
  duplicate?(): IoredisLikeSubscriber;
  /** `WAIT numreplicas timeout`, for the `replicas` lock option. */
  wait?(numreplicas: number, timeout: number): Promise<number>;
  /** True on an ioredis `Cluster`, where WAIT would not reach the primary that took the lock. */
  isCluster?: boolean;
}
