/**
 * The fault proxy, tested with raw sockets against a real Redis, so that what the safety tests
 * build on (a fault happens when asked, and only then) is proven without any Redis client library.
 */
import { Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FaultProxy, provisionRedis, type RedisInstance, startFaultProxy } from '../src/index.js';
import { encodeCommand, sendCommand } from '../src/redis/resp.js';

/** A raw connection that collects everything the server sends. */
interface RawConnection {
  readonly socket: Socket;
  /** Every byte received so far, as text. */
  received(): string;
  /** Sends a command (encoded as RESP). */
  send(...args: string[]): void;
  /** Resolves once `received()` contains `text`; the test's timeout bounds the wait. */
  receives(text: string): Promise<number>;
  /** Resolves (with the time) once the socket is closed. */
  readonly closed: Promise<number>;
}

function connectRaw(port: number): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let text = '';
    const waiters: Array<() => void> = [];
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      for (const check of [...waiters]) check();
    });
    const closed = new Promise<number>((done) => socket.once('close', () => done(performance.now())));
    socket.on('error', () => {}); // a cut shows up as 'close', which the tests wait for
    socket.once('connect', () =>
      resolve({
        socket,
        closed,
        received: () => text,
        send: (...args) => socket.write(encodeCommand(args)),
        receives: (expected) =>
          new Promise<number>((done) => {
            const check = () => {
              if (!text.includes(expected)) return;
              waiters.splice(waiters.indexOf(check), 1);
              done(performance.now());
            };
            waiters.push(check);
            check();
          }),
      }),
    );
    socket.once('error', reject);
    socket.connect(port, '127.0.0.1');
  });
}

/** Resolves after `ms`: used only where the absence of a reply over time is what is tested. */
const elapse = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('startFaultProxy()', () => {
  let redis: RedisInstance;
  let proxy: FaultProxy;
  const opened: RawConnection[] = [];
  const raw = async () => {
    const connection = await connectRaw(proxy.port);
    opened.push(connection);
    return connection;
  };

  beforeAll(async () => {
    redis = await provisionRedis();
    proxy = await startFaultProxy({ targetHost: redis.host, targetPort: redis.port });
  }, 120_000);

  afterEach(() => {
    proxy.heal();
    for (const connection of opened.splice(0)) connection.socket.destroy();
  });

  afterAll(async () => {
    await proxy?.close();
    await redis?.stop();
  });

  it('forwards in both directions on a loopback address, and counts connections and bytes', async () => {
    expect(proxy.url).toBe(`redis://127.0.0.1:${proxy.port}`);
    expect(proxy.port).not.toBe(redis.port);
    const before = proxy.stats;
    const connection = await raw();
    connection.send('PING');
    await connection.receives('+PONG\r\n');
    const after = proxy.stats;
    expect(after.connections).toBe(before.connections + 1);
    expect(after.open).toBe(before.open + 1);
    expect(after.bytesToServer - before.bytesToServer).toBe(encodeCommand(['PING']).length);
    expect(after.bytesToClient - before.bytesToClient).toBe('+PONG\r\n'.length);
  });

  it('setLatency(ms) delays each direction, so a round trip takes at least 2 × ms', async () => {
    const connection = await raw();
    connection.send('PING'); // connect and warm up without latency
    await connection.receives('+PONG');
    proxy.setLatency(100);
    const sent = performance.now();
    connection.send('ECHO', 'delayed');
    const answered = await connection.receives('delayed');
    expect(answered - sent).toBeGreaterThanOrEqual(200);
  });

  it('keeps the byte order when the latency drops while chunks are still delayed', async () => {
    const connection = await raw();
    proxy.setLatency(150);
    const expected: string[] = [];
    for (let index = 0; index < 40; index += 1) {
      const word = `w${String(index).padStart(3, '0')}`;
      expected.push(`$${word.length}\r\n${word}\r\n`);
      connection.send('ECHO', word);
      // Half the commands are sent with 150 ms of latency, half with none: the late ones must
      // still wait behind the early ones.
      if (index === 19) proxy.setLatency(0);
      await new Promise((resolve) => setImmediate(resolve)); // one chunk per command
    }
    await connection.receives(expected.at(-1) as string);
    expect(connection.received()).toBe(expected.join(''));
  });

  it("setLatency(ms, 'toClient') delays replies only: the command runs at once, its reply comes ms later", async () => {
    const key = `reply-delayed-${Math.random().toString(36).slice(2)}`;
    const connection = await raw();
    connection.send('PING'); // connect and warm up without latency
    await connection.receives('+PONG');
    proxy.setLatency(500, 'toClient');
    const sent = performance.now();
    connection.send('SET', key, 'ran');
    // The command reached Redis undelayed: a direct connection sees it while its reply is held.
    while ((await sendCommand(redis, ['GET', key])) !== 'ran') await elapse(5);
    expect(connection.received()).not.toContain('+OK');
    const answered = await connection.receives('+OK');
    expect(answered - sent).toBeGreaterThanOrEqual(500);
  });

  it("setLatency(ms, 'toServer') delays commands only, and leaves the reply latency alone", async () => {
    const key = `command-delayed-${Math.random().toString(36).slice(2)}`;
    const connection = await raw();
    connection.send('PING');
    await connection.receives('+PONG');
    proxy.setLatency(300, 'toClient');
    proxy.setLatency(0, 'toServer'); // one direction changed: the other keeps its 300 ms
    proxy.setLatency(500, 'toServer');
    const sent = performance.now();
    connection.send('SET', key, 'ran');
    expect(await sendCommand(redis, ['GET', key])).toBe(''); // still on its way to Redis (nil reads '')
    while ((await sendCommand(redis, ['GET', key])) !== 'ran') await elapse(5);
    const ranAt = performance.now();
    expect(ranAt - sent).toBeGreaterThanOrEqual(500);
    expect(connection.received()).not.toContain('+OK');
    expect((await connection.receives('+OK')) - sent).toBeGreaterThanOrEqual(800);
  });

  it("blackhole('drop'): a PING hangs until heal(), which closes the connection that lost it", async () => {
    const connection = await raw();
    proxy.blackhole();
    const droppedBefore = proxy.stats.droppedToServer;
    connection.send('PING');
    await elapse(300);
    expect(connection.received()).toBe('');
    expect(proxy.stats.droppedToServer - droppedBefore).toBe(encodeCommand(['PING']).length);
    expect(connection.socket.destroyed).toBe(false); // the connection stays open meanwhile

    const healedAt = performance.now();
    proxy.heal();
    expect(await connection.closed).toBeGreaterThanOrEqual(healedAt);
    expect(connection.received()).toBe('');
    // A new connection goes straight through.
    await expect(sendCommand(proxy, ['PING'])).resolves.toBe('PONG');
  });

  it("blackhole('hold'): a PING hangs until heal(), then is answered on the same connection", async () => {
    const connection = await raw();
    proxy.blackhole('hold');
    connection.send('PING');
    await elapse(300);
    expect(connection.received()).toBe('');
    const healedAt = performance.now();
    proxy.heal();
    expect(await connection.receives('+PONG\r\n')).toBeGreaterThanOrEqual(healedAt);
    expect(connection.socket.destroyed).toBe(false);
  });

  it('blackhole also stops new connections: their bytes do not get through', async () => {
    proxy.blackhole();
    const connection = await raw(); // the TCP handshake is with the proxy itself
    connection.send('PING');
    await elapse(300);
    expect(connection.received()).toBe('');
  });

  it('dropReplies(): the command runs on the server, its reply never arrives', async () => {
    const key = `dropped-${Math.random().toString(36).slice(2)}`;
    const connection = await raw();
    proxy.dropReplies();
    connection.send('SET', key, 'ran');
    // The command ran: a direct connection sees its effect.
    for (let tries = 0; (await sendCommand(redis, ['GET', key])) !== 'ran'; tries += 1) {
      expect(tries).toBeLessThan(100);
      await elapse(20);
    }
    await elapse(200);
    expect(connection.received()).toBe('');
    expect(proxy.stats.droppedToClient).toBeGreaterThan(0);
    proxy.heal();
    await connection.closed; // its stream has a hole: it cannot be used any more
  });

  it('cutAll() closes every open connection and keeps accepting new ones', async () => {
    const first = await raw();
    const second = await raw();
    first.send('PING');
    await first.receives('+PONG');
    const openBefore = proxy.stats.open;
    expect(openBefore).toBeGreaterThanOrEqual(2);

    proxy.cutAll();
    await Promise.all([first.closed, second.closed]);
    expect(proxy.stats.open).toBe(0);
    await expect(sendCommand(proxy, ['PING'])).resolves.toBe('PONG');
  });

  it('refuse(true) closes new connections at once; refuse(false) lets them in again', async () => {
    const survivor = await raw();
    const refusedBefore = proxy.stats.refused;
    proxy.refuse(true);
    const refused = await raw();
    await refused.closed;
    expect(refused.received()).toBe('');
    expect(proxy.stats.refused).toBe(refusedBefore + 1);
    // Connections made before stay usable.
    survivor.send('PING');
    await survivor.receives('+PONG');

    proxy.refuse(false);
    await expect(sendCommand(proxy, ['PING'])).resolves.toBe('PONG');
  });

  it('heal() removes the latency too', async () => {
    proxy.setLatency(400);
    proxy.heal();
    const connection = await raw();
    const sent = performance.now();
    connection.send('PING');
    expect((await connection.receives('+PONG')) - sent).toBeLessThan(300);
  });

  it('an orderly close by the client travels through, behind its last command', async () => {
    const connection = await raw();
    proxy.setLatency(50);
    connection.send('ECHO', 'last');
    connection.socket.end(); // half-close: the reply must still come back
    await connection.receives('last');
    await connection.closed;
  });

  it('close() stops listening and closes what is open', async () => {
    const own = await startFaultProxy({ targetHost: redis.host, targetPort: redis.port });
    const connection = await connectRaw(own.port);
    await own.close();
    await connection.closed;
    await expect(sendCommand(own, ['PING'], { timeoutMs: 1_000 })).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
    await own.close(); // idempotent
  });
});
