/**
 * The mutex's scripts. Each script is one atomic step on the server, so acquire, release, extend
 * and renewal each cost exactly one round trip.
 *
 * A lock is a Redis hash at `${prefix}{${name}}` with three fields:
 * - `owner`: the holder's token (a nanoid per lock handle);
 * - `count`: how many times that holder has entered it (always 1 unless the lock is reentrant);
 * - `fence`: the fencing token minted when this hold began (0 when fencing is off).
 * Its companion keys share the `{name}` hash tag: `…:fence`, the fencing counter, and the
 * `…:released` channel that a full release publishes on.
 * The key's PTTL is the lock's remaining time. Acquire and release take the count the holder
 * should have *after* the call, rather than a +1/-1, so that resending a call whose reply was lost
 * is harmless (idempotent).
 */
import { defineScript } from './define.js';

/**
 * Lua, shared by the plain and the fair acquire: takes the lock for ARGV[1] (or re-enters it),
 * minting a fencing token on a first entry when ARGV[4] is `1`, sets the count to ARGV[3] and the
 * expiry to ARGV[2], and returns `{1, count, fencingToken}`. Expects `held`, the lock hash's
 * `HMGET owner fence`.
 */
export const TAKE_LOCK = `local fence = tonumber(held[2]) or 0
if not held[1] and ARGV[4] == '1' then
  fence = redis.call('INCR', KEYS[2])
end
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'count', ARGV[3], 'fence', fence)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {1, tonumber(ARGV[3]), fence}`;

/**
 * Takes the lock if it is free, or re-enters it if this token already holds it. A first entry
 * mints the next fencing token of this lock name (INCR of its counter key, which never expires so
 * that tokens never go backwards); a re-entry or a resent call returns the token already minted.
 *
 * KEYS[1]: the lock hash. KEYS[2]: the lock's fencing counter.
 * ARGV[1]: owner token. ARGV[2]: ttl in ms. ARGV[3]: the hold count after this call (1 for a
 * first entry; the holder's count + 1 for a re-entry). ARGV[4]: `1` to mint a fencing token.
 *
 * Returns `{1, count, fencingToken}` when the token holds the lock afterwards (its expiry set to
 * the ttl; fencingToken 0 when not minted), or `{0, pttl}` when another owner holds it, with that
 * owner's remaining ms, or `{0, -2}` for a re-entry (count > 1) into a lock that no longer
 * exists: a broken hold is never silently re-created.
 */
export const ACQUIRE_SCRIPT = defineScript(
  'acquire',
  `
local held = redis.call('HMGET', KEYS[1], 'owner', 'fence')
if held[1] and held[1] ~= ARGV[1] then
  return {0, redis.call('PTTL', KEYS[1])}
end
if not held[1] and tonumber(ARGV[3]) > 1 then
  return {0, -2}
end
${TAKE_LOCK}
`,
  '2af43a99ca02a20ea20bf356eebeca4e464dc982',
);

/**
 * Leaves the lock once: deletes it when the holder's count reaches zero, else lowers the count.
 * Never touches a lock held by another token. A full release publishes on the lock's channel, so
 * that waiters wake at once instead of sleeping until their next retry.
 *
 * KEYS[1]: the lock hash.
 * ARGV[1]: owner token. ARGV[2]: the hold count after this call (0 releases fully).
 * ARGV[3]: the channel to publish the release on; empty to publish nothing (Redlock's clean-up of
 * a failed attempt, which frees no lock anyone could take and must not wake its own waiter).
 *
 * Returns the remaining hold count (0 when the key was deleted), or -1 when this token does not
 * hold the lock (expired, or taken by someone else).
 */
export const RELEASE_SCRIPT = defineScript(
  'release',
  `
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then
  return -1
end
local count = tonumber(ARGV[2])
if count <= 0 then
  redis.call('DEL', KEYS[1])
  if ARGV[3] ~= '' then
    redis.call('PUBLISH', ARGV[3], '')
  end
  return 0
end
redis.call('HSET', KEYS[1], 'count', count)
return count
`,
  'a28765e51b973ee0c2a83f45657545259a7967fc',
);

/**
 * Extends a held lock: adds ms to its remaining time, or replaces the remaining time with ms.
 * Background renewal is a replace with the lock's ttl.
 *
 * Redlock also re-takes a server that lost the lock (it restarted empty, or was flushed): when
 * ARGV[4] is `1` and the key is absent, it is set again for this token with ARGV[5] as its count
 * and ms as its expiry, exactly as a first acquire on that server would; never over another owner.
 * Without ARGV[4] (one server, a Cluster) a missing lock stays missing: the holder is told it lost it.
 *
 * KEYS[1]: the lock hash.
 * ARGV[1]: owner token. ARGV[2]: ms. ARGV[3]: `1` to replace the remaining time, `0` to add.
 * ARGV[4] (optional): `1` to re-take the lock if it is absent. ARGV[5]: the hold count to re-take
 * it with.
 *
 * Returns the new remaining time in ms; -1 when the lock no longer exists; -2 when another
 * token holds it; -3 when it did not exist and was re-taken (ARGV[4] `1`) for ms.
 */
export const EXTEND_SCRIPT = defineScript(
  'extend',
  `
local owner = redis.call('HGET', KEYS[1], 'owner')
if not owner then
  if ARGV[4] ~= '1' then
    return -1
  end
  redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'count', ARGV[5], 'fence', 0)
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return -3
end
if owner ~= ARGV[1] then
  return -2
end
local ttl = tonumber(ARGV[2])
if ARGV[3] == '0' then
  local remaining = redis.call('PTTL', KEYS[1])
  if remaining > 0 then
    ttl = ttl + remaining
  end
end
redis.call('PEXPIRE', KEYS[1], ttl)
return ttl
`,
  '7f315b6a7d5baba8d37bfedd69d27d208c39ff65',
);

/**
 * Reads a lock's state in one step, for status checks and `Locker.inspect`.
 *
 * KEYS[1]: the lock hash. KEYS[2]: the lock's fencing counter.
 *
 * Returns `{owner, pttl, count, fencingToken, lastFencingToken}`: owner, count and fencingToken
 * are nil and pttl is -2 when the lock is free; lastFencingToken is the counter (nil if never
 * minted).
 */
export const INSPECT_SCRIPT = defineScript(
  'inspect',
  `
local fields = redis.call('HMGET', KEYS[1], 'owner', 'count', 'fence')
return {fields[1], redis.call('PTTL', KEYS[1]), fields[2], fields[3], redis.call('GET', KEYS[2])}
`,
  '0dcfad0de30768f9706d6b57298037717dace796',
);
