import { Redis } from 'ioredis';
import { Locker } from '/work/main/packages/core/dist/index.js';
import { createIoredisRunner } from '/work/main/packages/ioredis/dist/index.js';

const client = new Redis(6399);
const inner = createIoredisRunner(client);
const calls = [];
const controller = new AbortController();
const recorder = {
  async run(s, k, a) {
    calls.push(s.name);
    try {
      const r = await inner.run(s, k, a);
      console.log(s.name, JSON.stringify(a), JSON.stringify(r));
      return r;
    } finally {
      controller.abort(new Error('x'));
    }
  },
};
const name = 'ab' + Math.random();
const holder = await new Locker(inner).acquire(name);
const e = await new Locker(recorder, { retryCount: Infinity, retryDelay: 5000 })
  .acquire(name, { signal: controller.signal })
  .catch((e) => e);
console.log(e.code);
await new Promise((r) => setTimeout(r, 200));
console.log(calls);
process.exit(0);
