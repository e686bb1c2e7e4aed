import { Locker, type LockLostError } from '@lock/core';
import { createIoredisRunner } from '@lock/ioredis';
import { createNodeRedisRunner } from '@lock/node-redis';
import { startRedisCluster } from '@lock/testing';
import { Cluster } from 'ioredis';
import { createCluster } from 'redis';
const keep = setInterval(() => {}, 1000);
const kind = process.argv[2];
const c = await startRedisCluster();
let runner; let wait: (key: string) => Promise<unknown>;
if (kind === 'ioredis') {
  const io = new Cluster([c.url]);
  io.on('error', () => {});
  runner = createIoredisRunner(io);
  wait = async (key) => { const p = await c.primaryFor(key); return io.nodes('master').find((n) => n.options.port === p.port)!.call('WAIT', '1', '1000'); };
} else {
  const nr = createCluster({ rootNodes: [{ url: c.url }] });
  nr.on('error', () => {});
  await nr.connect();
  runner = createNodeRedisRunner(nr);
  wait = (key) => nr.sendCommand(key, false, ['WAIT', '1', '1000']);
}
const t = () => Math.round(performance.now() - killedAt);
let killedAt = 0;
const locker = new Locker(runner, { ttl: 8000, renewalInterval: 500, autoRenewal: true, hooks: {
  onExtended: () => killedAt && console.log(t(), 'extended'),
  onRenewalFailed: ({ error }) => console.log(t(), 'renewal failed', String(error.cause ?? error).slice(0, 100)),
  onLost: ({ error }) => console.log(t(), 'lost', error.reason),
} });
const lock = await locker.acquire('fo');
console.log('token', lock.fencingToken, 'WAIT', await wait(lock.key));
const p = await c.primaryFor(lock.key);
killedAt = performance.now();
await c.killNode(p.port);
const np = await c.waitForPromotion(p.port);
console.log(t(), 'promoted', np.port, 'HGETALL owner', await c.command(np, ['HGET', lock.key, 'owner']) === lock.token);
await new Promise((r) => setTimeout(r, 4000));
console.log(t(), 'state', lock.state, lock.signal.aborted && (lock.signal.reason as LockLostError).reason);
console.log(t(), 'isLockedByMe', await lock.isLockedByMe().catch((e) => String(e)));
console.log(t(), 'release', await lock.release().catch((e) => String(e)));
const next = await new Locker(runner).acquire('fo');
console.log(t(), 'next token', next.fencingToken);
await next.release();
await c.stop();
clearInterval(keep);
process.exit(0);
