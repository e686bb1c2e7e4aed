/**
 * The semaphore's scripts: up to `limit` permits of one name out at once, each holder with its own
 * token, expiry, renewal and release. Each operation is one script, so one round trip.
 *
 * Keys, all inside the `{name}` hash tag (one Redis Cluster slot), and apart from the mutex of the
 * same name (`${prefix}{${name}}`):
 * - `${prefix}{${name}}:semaphore`: a sorted set with one member per permit out, `<token>:<i>` for
 *   i = 1..permits, scored by the server time (ms) at which that holder's hold expires. Every
 *   script first drops the members whose deadline has passed, so an expired holder never counts.
 *   The key's own expiry is kept at the latest deadline (PEXPIREAT), so it never outlives its
 *   holders; it is gone when the last permit is.
 * - `…:semaphore:fence`: the fencing-token counter, one INCR per acquisition; it never expires,
 *   so tokens never go backwards.
 * - `…:semaphore:waiters`: waiting tokens, scored by the server time at which their registration
 *   lapses unless they try again. A release wakes as many of them as there are free permits, each
 *   on its own channel `…:semaphore:wake:<token>`, and drops them from the set (a woken waiter
 *   that still finds no permit registers again): a release wakes one waiter per free permit, not
 *   everyone.
 * Every deadline is the server's `TIME`, never a client's clock.
 */
import { defineScript, SERVER_NOW_MS } from './define.js';

/**
 * Lua helpers every semaphore script that writes permits shares:
 * - `eachPermit(command, token, count, score)` runs `command` (ZADD or ZREM) on KEYS[1] for the
 *   members `<token>:1` … `<token>:<count>`, each preceded by `score` when given, in batches so
 *   that no call gets too many arguments;
 * - `expireAtLatest(key)` sets a sorted set's expiry to its highest score (a server time in ms).
 */
const PERMIT_HELPERS = `
local function eachPermit(command, token, count, score)
  local args = {}
  for i = 1, count do
    if score then
      args[#args + 1] = score
    end
    args[#args + 1] = token .. ':' .. i
    if #args >= 1000 or i == count then
      redis.call(command, KEYS[1], unpack(args))
      args = {}
    end
  end
end
local function expireAtLatest(key)
  local latest = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')[2]
  if latest then
    redis.call('PEXPIREAT', key, latest)
  end
end
`;

/** Lua: drops expired permits (KEYS[1]) and lapsed waiter registrations (KEYS[3]). */
const DROP_EXPIRED = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
`;

/**
 * Takes `permits` permits for this token if that keeps the permits in use within `limit`. A
 * token that already holds its permits (a resent call whose first reply was lost) keeps them with
 * a fresh deadline. Otherwise, when `ARGV[6]` allows, registers (or refreshes) the token as a
 * waiter, to be woken by a release.
 *
 * KEYS[1]: the permits. KEYS[2]: the fencing counter. KEYS[3]: the waiters.
 * ARGV[1]: token. ARGV[2]: ttl in ms. ARGV[3]: permits. ARGV[4]: limit (the caller's).
 * ARGV[5]: `1` to mint a fencing token. ARGV[6]: how long the waiter registration lasts without a
 * new attempt, in ms; `0` to not register (a last attempt, or `tryAcquire`), which also leaves the
 * waiters.
 *
 * Returns `{1, permits, fencingToken}` when held afterwards (fencingToken 0 when not minted), or
 * `{0, permitsInUse, registered}` when not, `registered` being 1 when the token now waits.
 */
export const SEMAPHORE_ACQUIRE_SCRIPT = defineScript(
  'semaphore-acquire',
  `
${SERVER_NOW_MS}
${PERMIT_HELPERS}
${DROP_EXPIRED}
local token = ARGV[1]
local permits = tonumber(ARGV[3])
if not redis.call('ZSCORE', KEYS[1], token .. ':1') then
  local inUse = redis.call('ZCARD', KEYS[1])
  if inUse + permits > tonumber(ARGV[4]) then
    local placeTtl = tonumber(ARGV[6])
    if placeTtl <= 0 then
      redis.call('ZREM', KEYS[3], token)
      return {0, inUse, 0}
    end
    redis.call('ZADD', KEYS[3], now + placeTtl, token)
    expireAtLatest(KEYS[3])
    return {0, inUse, 1}
  end
end
redis.call('ZREM', KEYS[3], token)
eachPermit('ZADD', token, permits, now + tonumber(ARGV[2]))
expireAtLatest(KEYS[1])
local fence = 0
if ARGV[5] == '1' then
  fence = redis.call('INCR', KEYS[2])
end
return {1, permits, fence}
`,
  '05f0bd5e8c84b11dd363e4a75f76908ae65cba90',
);

/**
 * Gives back this token's permits, and leaves the waiters (a waiter that gives up calls it too).
 * Then wakes as many registered waiters as there are free permits by the caller's limit, each on
 * its own channel, dropping them from the waiters.
 *
 * KEYS[1]: the permits. KEYS[2]: the fencing counter (unused; every semaphore script takes the
 * same keys). KEYS[3]: the waiters.
 * ARGV[1]: token. ARGV[2]: its permits. ARGV[3]: limit (the caller's). ARGV[4]: the wake channel
 * prefix; a waiter's channel is this prefix followed by its token.
 *
 * Returns 0 when this token's permits were given back, -1 when it held none (expired, deleted, or
 * never acquired).
 */
export const SEMAPHORE_RELEASE_SCRIPT = defineScript(
  'semaphore-release',
  `
${SERVER_NOW_MS}
${PERMIT_HELPERS}
${DROP_EXPIRED}
local token = ARGV[1]
redis.call('ZREM', KEYS[3], token)
local released = -1
if redis.call('ZSCORE', KEYS[1], token .. ':1') then
  eachPermit('ZREM', token, tonumber(ARGV[2]))
  released = 0
end
local free = tonumber(ARGV[3]) - redis.call('ZCARD', KEYS[1])
if free > 0 then
  for _, waiter in ipairs(redis.call('ZRANGE', KEYS[3], 0, free - 1)) do
    redis.call('ZREM', KEYS[3], waiter)
    redis.call('PUBLISH', ARGV[4] .. waiter, '')
  end
end
return released
`,
  'e14868162e6ca7578a4fe4649f479912001fff53',
);

/**
 * Prolongs this token's permits: adds ms to their remaining time, or sets it to ms (`replace`).
 * Background renewal is a replace with the ttl.
 *
 * KEYS[1]: the permits.
 * ARGV[1]: token. ARGV[2]: ms. ARGV[3]: `1` to replace the remaining time, `0` to add.
 * ARGV[4]: its permits.
 *
 * Returns the new remaining time in ms, or -1 when the token holds no permit (expired, deleted).
 */
export const SEMAPHORE_EXTEND_SCRIPT = defineScript(
  'semaphore-extend',
  `
${SERVER_NOW_MS}
${PERMIT_HELPERS}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local deadline = redis.call('ZSCORE', KEYS[1], ARGV[1] .. ':1')
if not deadline then
  return -1
end
if ARGV[3] == '1' then
  deadline = now + tonumber(ARGV[2])
else
  deadline = tonumber(deadline) + tonumber(ARGV[2])
end
eachPermit('ZADD', ARGV[1], tonumber(ARGV[4]), deadline)
expireAtLatest(KEYS[1])
return deadline - now
`,
  'c2a289fea1ee132a07018b9c5b1262e5194c0ea6',
);

/**
 * Reads a semaphore's state in one step, for status checks and `Semaphore.inspect`. Writes
 * nothing: expired permits and lapsed waiters are skipped, not dropped.
 *
 * KEYS[1]: the permits. KEYS[2]: the fencing counter. KEYS[3]: the waiters.
 *
 * Returns `{now, permits, lastFencingToken, waiting}`: the server time in ms; the live permits as
 * a flat `{member, deadline, …}` list in deadline order; the counter (false if never minted); the
 * number of live waiter registrations.
 */
export const SEMAPHORE_INSPECT_SCRIPT = defineScript(
  'semaphore-inspect',
  `
${SERVER_NOW_MS}
return {
  now,
  redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf', 'WITHSCORES'),
  redis.call('GET', KEYS[2]),
  redis.call('ZCOUNT', KEYS[3], '(' .. now, '+inf')
}
`,
  '763bc6a514ea3c4c4f1d700d1eb5ab8271bb74b3',
);
