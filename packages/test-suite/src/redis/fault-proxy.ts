/**
 * A loopback TCP proxy that puts network faults between a Redis client and its server: latency,
 * a partition (blackhole), lost replies, cut connections and refused connections. The client
 * under test connects to the proxy's `url`; an admin client that talks to Redis directly can then
 * see what really happened on the server while the client only sees the fault.
 *
 * Every connection is a pair of sockets (client side, server side) with one ordered pipeline per
 * direction, so that a delay never reorders bytes: RESP clients match replies to commands by
 * order alone, and a reordered or half-lost stream would make them pair a reply with the wrong
 * command, which no real network does to a TCP connection.
 *
 * @packageDocumentation
 */
import { createServer, type Server, Socket } from 'node:net';

/** Where {@link startFaultProxy} forwards to, and where it listens. */
export interface FaultProxyOptions {
  /** The Redis the proxy forwards to. */
  readonly targetHost: string;
  readonly targetPort: number;
  /** Interface to listen on. Loopback only by default, so tests never open a port to the network. */
  readonly listenHost?: string;
}

/** What the proxy has seen so far. A snapshot: read `proxy.stats` again for fresh numbers. */
export interface FaultProxyStats {
  /** Connections accepted and forwarded (refused ones are not counted here). */
  readonly connections: number;
  /** Connections closed at once because `refuse(true)` was in force. */
  readonly refused: number;
  /** Connections currently open. */
  readonly open: number;
  /** Bytes delivered to the server. */
  readonly bytesToServer: number;
  /** Bytes delivered to clients. */
  readonly bytesToClient: number;
  /** Bytes from clients that a fault discarded. */
  readonly droppedToServer: number;
  /** Bytes from the server that a fault discarded. */
  readonly droppedToClient: number;
}

/**
 * What a {@link FaultProxy.blackhole} does with the bytes it stops:
 * - `'drop'`: discards them. A connection that lost bytes is closed on `heal()`, as a TCP
 *   connection with a hole in its stream would have been reset.
 * - `'hold'`: keeps them and delivers them, in order, on `heal()`: what TCP retransmission does
 *   when a partition ends before the connection times out. Commands then run late on the server.
 */
export type BlackholeMode = 'drop' | 'hold';

/**
 * Which way a {@link FaultProxy.setLatency} applies: `'toServer'` delays commands (they run late),
 * `'toClient'` delays replies (the command runs at once, the client learns of it late), `'both'`
 * delays each direction.
 */
export type LatencyDirection = 'both' | 'toServer' | 'toClient';

/** A running proxy and its fault controls. Every control takes effect for bytes arriving after it. */
export interface FaultProxy {
  /** `redis://127.0.0.1:<port>`: give it to the client under test. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Counters; see {@link FaultProxyStats}. */
  readonly stats: FaultProxyStats;
  /**
   * Delays every chunk by `ms` in each direction (so a round trip gains `2 × ms`), keeping order.
   * With `direction`, only that way is set and the other keeps its latency: `'toClient'` delays
   * replies alone, so a command takes effect in Redis at once while its reply arrives `ms` later.
   * A chunk is delayed by the latency in force when it reaches the proxy.
   * @defaultValue direction `'both'`
   */
  setLatency(ms: number, direction?: LatencyDirection): void;
  /**
   * Partitions every connection, open and future: they stay open, but no byte gets through in
   * either direction until {@link FaultProxy.heal}. See {@link BlackholeMode} for what happens to
   * the stopped bytes.
   * @defaultValue mode `'drop'`
   */
  blackhole(mode?: BlackholeMode): void;
  /**
   * Forwards client → server but discards server → client: "the command ran, the reply is lost".
   * Connections that lost a reply are closed on `heal()`, since their clients would otherwise pair
   * every later reply with the wrong command.
   */
  dropReplies(): void;
  /** Destroys every open connection now (both sides). New connections are still accepted. */
  cutAll(): void;
  /** While `true`, new connections are closed as soon as they are accepted. */
  refuse(on: boolean): void;
  /**
   * Back to plain pass-through: no latency, no blackhole, no dropped replies, no refusal. Held
   * bytes are delivered; connections that lost bytes are closed.
   */
  heal(): void;
  /** Stops listening and destroys every connection. Idempotent. */
  close(): Promise<void>;
}

type Mode =
  | { readonly kind: 'pass' }
  | { readonly kind: 'blackhole'; readonly hold: boolean }
  | { readonly kind: 'dropReplies' };

/** One chunk in a pipeline, or the sender's end of stream, which must follow its last chunk. */
type Item =
  | { readonly data: Buffer; readonly dueAt: number }
  | { readonly end: true; readonly dueAt: number };

/**
 * One direction of one connection: an ordered queue drained by a single timer, so that chunks
 * leave in the order they came whatever the latency does in between.
 */
class Pipeline {
  readonly #queue: Item[] = [];
  readonly #held: Array<Buffer | 'end'> = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastDueAt = 0;
  readonly #destination: Socket;
  readonly #onDelivered: (bytes: number) => void;
  /** Set once bytes were discarded: this stream can no longer be trusted. */
  lossy = false;

  constructor(destination: Socket, onDelivered: (bytes: number) => void) {
    this.#destination = destination;
    this.#onDelivered = onDelivered;
  }

  push(data: Buffer | 'end', latency: number): void {
    // Never earlier than the chunk before it: lowering the latency must not reorder the stream.
    const dueAt = Math.max(performance.now() + latency, this.#lastDueAt);
    this.#lastDueAt = dueAt;
    this.#queue.push(data === 'end' ? { end: true, dueAt } : { data, dueAt });
    this.#pump();
  }

  hold(data: Buffer | 'end'): void {
    this.#held.push(data);
  }

  /** Sends on what a `'hold'` blackhole kept back, in order. */
  release(latency: number): void {
    for (const item of this.#held.splice(0)) this.push(item, latency);
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#queue.length = 0;
    this.#held.length = 0;
  }

  #pump(): void {
    if (this.#timer !== undefined) return;
    const head = this.#queue[0];
    if (head === undefined) return;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        const now = performance.now();
        while (this.#queue[0] !== undefined && this.#queue[0].dueAt <= now) {
          const item = this.#queue.shift() as Item;
          if (this.#destination.destroyed) continue;
          if ('end' in item) {
            this.#destination.end();
          } else {
            this.#destination.write(item.data);
            this.#onDelivered(item.data.length);
          }
        }
        this.#pump();
      },
      Math.max(0, head.dueAt - performance.now()),
    );
  }
}

/** One proxied connection: the client's socket, ours to the server, and a pipeline each way. */
interface Pair {
  readonly client: Socket;
  readonly server: Socket;
  readonly toServer: Pipeline;
  readonly toClient: Pipeline;
}

/**
 * Starts a fault proxy on a free port of 127.0.0.1, forwarding to `targetHost:targetPort`.
 * It starts in pass-through; close it with {@link FaultProxy.close}.
 *
 * @example
 * ```ts
 * const redis = await provisionRedis();
 * const proxy = await startFaultProxy({ targetHost: redis.host, targetPort: redis.port });
 * const client = new Redis(proxy.url, { commandTimeout: 300 });
 * proxy.blackhole(); // the client's next command times out
 * proxy.heal();
 * ```
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const listenHost = options.listenHost ?? '127.0.0.1';
  const pairs = new Set<Pair>();
  let mode: Mode = { kind: 'pass' };
  const latency = { toServer: 0, toClient: 0 };
  let refusing = false;
  let closed = false;
  const counters = {
    connections: 0,
    refused: 0,
    bytesToServer: 0,
    bytesToClient: 0,
    droppedToServer: 0,
    droppedToClient: 0,
  };

  const destroyPair = (pair: Pair) => {
    pair.toServer.stop();
    pair.toClient.stop();
    pair.client.destroy();
    pair.server.destroy();
    pairs.delete(pair);
  };

  /** Routes what one side sent (a chunk, or its end of stream) as the current mode says. */
  const route = (pair: Pair, direction: 'toServer' | 'toClient', data: Buffer | 'end') => {
    const pipeline = pair[direction];
    const size = data === 'end' ? 0 : data.length;
    const discard = () => {
      pipeline.lossy = true;
      if (direction === 'toServer') counters.droppedToServer += size;
      else counters.droppedToClient += size;
    };
    if (mode.kind === 'blackhole') {
      if (mode.hold) pipeline.hold(data);
      else discard();
    } else if (mode.kind === 'dropReplies' && direction === 'toClient') {
      discard();
    } else {
      pipeline.push(data, latency[direction]);
    }
  };

  const server: Server = createServer({ allowHalfOpen: true }, (client) => {
    if (refusing || closed) {
      counters.refused += 1;
      client.destroy();
      return;
    }
    counters.connections += 1;
    const upstream = new Socket({ allowHalfOpen: true });
    const pair: Pair = {
      client,
      server: upstream,
      toServer: new Pipeline(upstream, (bytes) => {
        counters.bytesToServer += bytes;
      }),
      toClient: new Pipeline(client, (bytes) => {
        counters.bytesToClient += bytes;
      }),
    };
    pairs.add(pair);
    // An error, or a close that came without an orderly end, tears down both sides at once. An
    // orderly end (FIN) travels through the pipeline instead, behind the data sent before it, and
    // the pair is forgotten once both sides have closed.
    for (const socket of [client, upstream]) {
      socket.on('error', () => destroyPair(pair));
      socket.on('close', () => {
        if (!socket.readableEnded) destroyPair(pair);
        else if (client.destroyed && upstream.destroyed) pairs.delete(pair);
      });
    }
    client.on('data', (chunk: Buffer) => route(pair, 'toServer', chunk));
    client.on('end', () => route(pair, 'toServer', 'end'));
    upstream.on('data', (chunk: Buffer) => route(pair, 'toClient', chunk));
    upstream.on('end', () => route(pair, 'toClient', 'end'));
    // Writes made before the upstream connects are buffered by the socket itself.
    upstream.connect(options.targetPort, options.targetHost);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, listenHost, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address !== 'object') {
    server.close();
    throw new Error('The fault proxy could not tell which port it listens on');
  }
  const port = address.port;

  return {
    url: `redis://${listenHost}:${port}`,
    host: listenHost,
    port,
    get stats(): FaultProxyStats {
      return { ...counters, open: pairs.size };
    },
    setLatency(ms, direction = 'both') {
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`latency must be >= 0 ms, got ${ms}`);
      if (direction !== 'toClient') latency.toServer = ms;
      if (direction !== 'toServer') latency.toClient = ms;
    },
    blackhole(blackholeMode = 'drop') {
      mode = { kind: 'blackhole', hold: blackholeMode === 'hold' };
    },
    dropReplies() {
      mode = { kind: 'dropReplies' };
    },
    cutAll() {
      for (const pair of [...pairs]) destroyPair(pair);
    },
    refuse(on) {
      refusing = on;
    },
    heal() {
      mode = { kind: 'pass' };
      latency.toServer = 0;
      latency.toClient = 0;
      refusing = false;
      for (const pair of [...pairs]) {
        if (pair.toServer.lossy || pair.toClient.lossy) {
          destroyPair(pair);
        } else {
          pair.toServer.release(0);
          pair.toClient.release(0);
        }
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const pair of [...pairs]) destroyPair(pair);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
