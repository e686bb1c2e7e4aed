/** The GLIDE client shapes the adapter calls, and the adapter's options. */
/** The route GLIDE's cluster client takes: the primary that owns `key`'s hash slot. */
export interface GlideKeyRoute {
  readonly type: 'primarySlotKey';
  readonly key: string;
}

/**
 * The GLIDE methods the adapter calls on the user's client. A `GlideClient` or
 * `GlideClusterClient` (2.x) fits without a cast.
 */
export interface GlideLikeClient {
  /** Sets no `decoder`: replies come in the client's default, which {@link GlideRunner} converts. */
  customCommand(args: string[], options?: { route?: GlideKeyRoute; decoder?: undefined }): Promise<unknown>;
  /** Sharded pub/sub exists only on a `GlideClusterClient`: it tells the adapter to route by key. */
  readonly ssubscribe?: unknown;
}

/** The GLIDE methods the adapter calls on the subscriber client it opens. */
export interface GlideLikeSubscriber {
  /** Dynamic SUBSCRIBE (GLIDE ≥ 2.3): resolves once confirmed, rejects after `timeoutMs`. */
  subscribe(channels: Iterable<string>, timeoutMs: number): Promise<unknown>;
  unsubscribe(channels: Iterable<string>, timeoutMs: number): Promise<unknown>;
  /** The next message; rejects once the client is closed. */
  getPubSubMessage(): Promise<{ channel: unknown; message: unknown }>;
  /** For QUIT, sent before `close()`. */
  customCommand(args: string[]): Promise<unknown>;
  close(): void;
}

/** Options of {@link createGlideRunner}. */
export interface GlideRunnerOptions {
  /**
   * Makes the adapter's own subscriber client, which wakes waiters the moment a lock is released.
   * GLIDE has no `duplicate()`, so pass a function that creates a client like yours, without
   * `pubsubSubscriptions` (its messages are read with `getPubSubMessage()`), e.g.
   * `() => GlideClient.createClient(config)`. It is called when a lock is first waited for and the
   * client is closed after 1 s without waiters. Without it, waiters poll.
   */
  subscriber?: () => Promise<GlideLikeSubscriber>;
}
