/**
 * What a runner author hands the suite: how to connect a client of their Redis library and wrap
 * it with their adapter.
 */
import type { ScriptRunner } from '@lock/core';
import type { ReleaseNotifier } from '@lock/core/adapter';

/** An adapter's runner: the port, release notifications, and `close()` for what it opened. */
export interface AdapterRunner extends ScriptRunner, ReleaseNotifier {
  /** Closes what the adapter opened itself (its subscriber connection), never the user's client. */
  close(): Promise<void>;
}

/** One connected client of the adapter under test. */
export interface ConnectedClient {
  /** The adapter's runner over this client. */
  readonly runner: AdapterRunner;
  /** Sends a raw command through the same client (for setup and assertions). */
  command(args: readonly string[]): Promise<unknown>;
  /** Closes the client (the suite owns the clients it connects). */
  close(): Promise<void>;
}

/** How the suite gets clients of the adapter under test. */
export interface AdapterUnderTest {
  /** Shown in test names, e.g. `ioredis`. */
  readonly name: string;
  /** Connects a new client to `url` and wraps it with the adapter. */
  connect(url: string): Promise<ConnectedClient>;
  /**
   * Runs the suite on a Redis Cluster (`startRedisCluster()`) instead of one server: `connect` is
   * given the URL of one node and returns a cluster client, whose `command` routes by key. The
   * server-wide checks (command statistics, SCRIPT FLUSH, CLIENT PAUSE, CLIENT LIST) then go to
   * the nodes themselves, and the cluster-only tests run.
   */
  readonly cluster?: boolean;
}
