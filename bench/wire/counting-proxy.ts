/**
 * A loopback TCP proxy in front of Redis that counts every command clients send through it, by
 * name. Jobs connect through it when commands are what they measure, never in a timed run.
 */
import { createServer, type Socket, connect as tcpConnect } from 'node:net';
import type { WireCounts } from '../jobs.js';
import { RespCommandReader } from './resp-commands.js';

export interface CountingProxy {
  readonly url: string;
  counts(): WireCounts;
  close(): Promise<void>;
}

export async function startCountingProxy(target: { host: string; port: number }): Promise<CountingProxy> {
  const counts = new Map<string, number>();
  const sockets = new Set<Socket>();
  const count = (name: string) => counts.set(name, (counts.get(name) ?? 0) + 1);

  const server = createServer((client) => {
    const upstream = tcpConnect(target);
    const reader = new RespCommandReader(count);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.setNoDelay(true);
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
      socket.on('error', () => {});
    }
    client.on('data', (chunk: Buffer) => {
      reader.push(chunk);
      if (!upstream.write(chunk)) client.pause();
    });
    upstream.on('drain', () => client.resume());
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the counting proxy has no port');

  return {
    url: `redis://127.0.0.1:${address.port}`,
    counts: () => Object.fromEntries(counts),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
