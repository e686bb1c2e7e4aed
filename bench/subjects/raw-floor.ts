/**
 * The raw floor: what a lock costs with nothing but the client. Acquire is `SET key token NX PX
 * ttl`, release is an EVALSHA compare-and-delete, both on the same connection; PING is one round
 * trip. No retries, no token generator beyond a counter, no bookkeeping.
 */
import type { Held, LockClient, PingClient, Subject } from './types.js';

export const COMPARE_AND_DELETE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`.trim();

/** The floor's commands on one client. */
export interface FloorCalls {
  setNx(key: string, token: string): Promise<boolean>;
  compareAndDelete(key: string, token: string): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

let tokenCounter = 0;
const nextToken = () => `${process.pid}:${++tokenCounter}`;

function floorClient(calls: FloorCalls): LockClient {
  return {
    async acquire(key): Promise<Held | null> {
      const token = nextToken();
      if (!(await calls.setNx(key, token))) return null;
      return { release: () => calls.compareAndDelete(key, token) };
    },
    close: () => calls.close(),
  };
}

export function floorSubject(open: (url: string) => Promise<FloorCalls>): Subject {
  return {
    connect: async (url) => floorClient(await open(url)),
    async connectPing(url): Promise<PingClient> {
      const calls = await open(url);
      return { ping: calls.ping, close: calls.close };
    },
  };
}
