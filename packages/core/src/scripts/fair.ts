/**
 * The fair (first-come, first-served) mutex. It keeps the mutex's hash (`owner`, `count`, `fence`),
 * so extend, inspect and the fencing counter are the mutex's own scripts, and adds a queue of
 * waiters beside it, in the same `{name}` hash slot:
 * - `…:queue`: a sorted set of waiting tokens, scored by arrival (1, 2, 3, …);
 * - `…:queue-deadlines`: the same tokens scored by the server time (ms) at which their place
 *   lapses unless they try again. A waiter that crashed or gave up without leaving drops out once
 *   its deadline passes, so it never blocks the waiters behind it for longer than that.
 * A free lock goes to the head of the queue only (or to anyone when the queue is empty), and a
 * release wakes only the head, on its own channel `…:wake:<token>`: no thundering herd.
 */
import { defineScript, SERVER_NOW_MS } from './define.js';
import { TAKE_LOCK } from './mutex.js';

/** Lua: drops every waiter whose place has lapsed (KEYS[3] queue, KEYS[4] deadlines). */
const DROP_LAPSED_WAITERS = `
local lapsed = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now)
for _, waiter in ipairs(lapsed) do
  redis.call('ZREM', KEYS[3], waiter)
  redis.call('ZREM', KEYS[4], waiter)
end
`;

/** Lua: publishes on the wake channel of the waiter at the head of the queue, if there is one. */
const WAKE_HEAD = `
local head = redis.call('ZRANGE', KEYS[3], 0, 0)[1]
if head then
  redis.call('PUBLISH', ARGV[3] .. head, '')
end
`;

/**
 * Takes the lock if it is free and this token is first in line (or nobody waits), or re-enters it
 * if this token holds it. Otherwise, when `ARGV[5]` allows, takes (or keeps) a place in the queue
 * and refreshes its deadline.
 *
 * KEYS[1]: the lock hash. KEYS[2]: the fencing counter. KEYS[3]: the queue. KEYS[4]: the queue
 * deadlines.
 * ARGV[1]: owner token. ARGV[2]: ttl in ms. ARGV[3]: the hold count after this call. ARGV[4]: `1`
 * to mint a fencing token. ARGV[5]: how long this waiter's place lasts without a new attempt, in
 * ms; `0` to not queue (a last attempt, or `tryAcquire`).
 *
 * Returns `{1, count, fencingToken}` when held; `{0, pttl, position}` when not, with the holder's
 * remaining ms (-2 when the lock is free but others are first in line, or for a re-entry into a
 * lock that no longer exists) and this token's 1-based place in the queue (0 when not queued).
 */
export const FAIR_ACQUIRE_SCRIPT = defineScript(
  'fair-acquire',
  `
${SERVER_NOW_MS}
${DROP_LAPSED_WAITERS}
local held = redis.call('HMGET', KEYS[1], 'owner', 'fence')
local mine = held[1] == ARGV[1]
if not held[1] and tonumber(ARGV[3]) > 1 then
  return {0, -2, 0}
end
if mine or not held[1] then
  local head = redis.call('ZRANGE', KEYS[3], 0, 0)[1]
  if mine or not head or head == ARGV[1] then
    redis.call('ZREM', KEYS[3], ARGV[1])
    redis.call('ZREM', KEYS[4], ARGV[1])
${TAKE_LOCK}
  end
end
local remaining = -2
if held[1] then
  remaining = redis.call('PTTL', KEYS[1])
end
local placeTtl = tonumber(ARGV[5])
if placeTtl <= 0 then
  local rank = redis.call('ZRANK', KEYS[3], ARGV[1])
  return {0, remaining, rank and rank + 1 or 0}
end
if not redis.call('ZSCORE', KEYS[3], ARGV[1]) then
  local tail = redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')
  local arrival = 1
  if tail[2] then
    arrival = tonumber(tail[2]) + 1
  end
  redis.call('ZADD', KEYS[3], arrival, ARGV[1])
end
redis.call('ZADD', KEYS[4], now + placeTtl, ARGV[1])
for i = 3, 4 do
  if redis.call('PTTL', KEYS[i]) < placeTtl then
    redis.call('PEXPIRE', KEYS[i], placeTtl)
  end
end
return {0, remaining, redis.call('ZRANK', KEYS[3], ARGV[1]) + 1}
`,
  '0faef06dd80bad2aba47937ecb465dcfb6d2a455',
);

/**
 * Leaves the lock once, like the mutex's release, and on a full release wakes only the waiter at
 * the head of the queue. Called by a waiter that gives up, it leaves the queue (and wakes the
 * next waiter if the lock is free, since that one may have been waiting behind it).
 *
 * KEYS[1]: the lock hash. KEYS[2]: the fencing counter (unused; passed so every fair script
 * takes the same keys). KEYS[3]: the queue. KEYS[4]: the queue deadlines.
 * ARGV[1]: owner token. ARGV[2]: the hold count after this call (0 releases fully).
 * ARGV[3]: the wake channel prefix; the head's channel is this prefix followed by its token.
 *
 * Returns the remaining hold count (0 when the key was deleted), or -1 when this token does not
 * hold the lock.
 */
export const FAIR_RELEASE_SCRIPT = defineScript(
  'fair-release',
  `
${SERVER_NOW_MS}
${DROP_LAPSED_WAITERS}
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
local owner = redis.call('HGET', KEYS[1], 'owner')
if owner ~= ARGV[1] then
  if not owner then
${WAKE_HEAD}
  end
  return -1
end
local count = tonumber(ARGV[2])
if count <= 0 then
  redis.call('DEL', KEYS[1])
${WAKE_HEAD}
  return 0
end
redis.call('HSET', KEYS[1], 'count', count)
return count
`,
  'e72714ecd1dcbc3abf56b6ff3967a46bb4632f16',
);
