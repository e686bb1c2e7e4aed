/** The raw floor on node-redis. */
import { LOCK_TTL } from '../config.js';
import { closeNodeRedis, openNodeRedis } from './node-redis-client.js';
import { COMPARE_AND_DELETE, floorSubject } from './raw-floor.js';
import type { Subject } from './types.js';

export const floorOverNodeRedis: Subject = floorSubject(async (url) => {
  const client = await openNodeRedis(url);
  const sha1 = await client.scriptLoad(COMPARE_AND_DELETE);
  return {
    setNx: async (key, token) => (await client.set(key, token, { NX: true, PX: LOCK_TTL })) === 'OK',
    compareAndDelete: async (key, token) => {
      await client.evalSha(sha1, { keys: [key], arguments: [token] });
    },
    ping: async () => {
      await client.ping();
    },
    close: () => closeNodeRedis(client),
  };
});
