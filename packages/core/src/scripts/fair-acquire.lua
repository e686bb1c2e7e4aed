-- fair-acquire: takes the fair mutex if it is free and this token is first in line (or nobody
-- waits), or re-enters it if this token holds it. Otherwise, when placeTtl allows, takes (or
-- keeps) a place in the queue and refreshes its deadline, and leaves its hand-off terms so that a
-- release hands the lock to it at once when it is first in line (lib/hand-to-head.lua).
--
-- KEYS[1] lockKey: the lock hash.
-- KEYS[2] fenceKey: the fencing counter.
-- KEYS[3] queueKey: the queue, scored by arrival.
-- KEYS[4] deadlinesKey: the queue deadlines, scored by the server ms at which a place lapses.
-- KEYS[5] termsKey: the queued waiters' hand-off terms, token -> "ttl claimMs mintFence handOff
--   channel".
-- ARGV[1] token: owner token.
-- ARGV[2] ttl: ttl in ms.
-- ARGV[3] count: the hold count after this call.
-- ARGV[4] mintFence: `1` to mint a fencing token.
-- ARGV[5] placeTtlMs: how long this waiter's place lasts without a new attempt, in ms; `0` to not
--   queue (a last attempt, or `tryAcquire`).
-- ARGV[6] handOff (optional): `1` when a release may hand the lock to this waiter; `0` to only be
--   woken.
-- ARGV[7] channel (optional): the waiter's Locker's wake channel; empty or absent when it has none
--   (it polls).
--
-- Returns `{1, count, fencingToken}` when held; `{0, pttl, position}` when not, with the holder's
-- remaining ms (-2 when the lock is free but others are first in line, or for a re-entry into a
-- lock that no longer exists), this token's 1-based place in the queue (0 when not queued) and
-- the server's clock in ms: `{0, pttl, position, serverNow}`.
local lockKey = KEYS[1]
local fenceKey = KEYS[2]
local queueKey = KEYS[3]
local deadlinesKey = KEYS[4]
local termsKey = KEYS[5]
local token = ARGV[1]
local ttl = ARGV[2]
local count = ARGV[3]
local mintFence = ARGV[4]
local placeTtlMs = ARGV[5]
local handOff = ARGV[6]
local channel = ARGV[7]
--!include lib/server-now.lua
--!include lib/drop-lapsed-waiters.lua
--!include lib/take-lock.lua
--!include lib/leave-waiters.lua
--!include lib/keep-alive.lua
--!include lib/keep-terms.lua

local now = serverNowMs()
dropLapsedWaiters(queueKey, deadlinesKey, now, termsKey)
local held = redis.call('HMGET', lockKey, 'owner', 'fence')
local mine = held[1] == token
if not held[1] and tonumber(count) > 1 then
  return {0, -2, 0}
end
if mine or not held[1] then
  local head = redis.call('ZRANGE', queueKey, 0, 0)[1]
  if mine or not head or head == token then
    leaveWaiters(queueKey, deadlinesKey, token, termsKey)
    return takeLock(lockKey, fenceKey, held, token, ttl, count, mintFence)
  end
end
local remaining = -2
if held[1] then
  remaining = redis.call('PTTL', lockKey)
end
local placeTtl = tonumber(placeTtlMs)
if placeTtl <= 0 then
  local rank = redis.call('ZRANK', queueKey, token)
  return {0, remaining, rank and rank + 1 or 0, now}
end
if not redis.call('ZSCORE', queueKey, token) then
  local tail = redis.call('ZRANGE', queueKey, -1, -1, 'WITHSCORES')
  local arrival = 1
  if tail[2] then
    arrival = tonumber(tail[2]) + 1
  end
  redis.call('ZADD', queueKey, arrival, token)
end
redis.call('ZADD', deadlinesKey, now + placeTtl, token)
keepAlive(queueKey, placeTtl)
keepAlive(deadlinesKey, placeTtl)
keepTerms(termsKey, token, ttl, placeTtl, mintFence, handOff, channel)
return {0, remaining, redis.call('ZRANK', queueKey, token) + 1, now}
