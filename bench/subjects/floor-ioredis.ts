/** The raw floor on ioredis. */
import { LOCK_TTL } from '../config.js';
import { closeIoredis, openIoredis } from './ioredis-client.js';
import { COMPARE_AND_DELETE, floorSubject } from './raw-floor.js';
import type { Subject } from './types.js';

export const floorOverIoredis: Subject = floorSubject(async (url) => {
  const client = await openIoredis(url);
  const sha1 = String(await client.script('LOAD', COMPARE_AND_DELETE));
  return {
    setNx: async (key, token) => (await client.set(key, token, 'PX', LOCK_TTL, 'NX')) === 'OK',
    compareAndDelete: async (key, token) => {
      await client.evalsha(sha1, 1, key, token);
    },
    ping: async () => {
      await client.ping();
    },
    close: () => closeIoredis(client),
  };
});
