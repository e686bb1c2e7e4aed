-- acquire: takes the mutex if it is free, or re-enters it if this token already holds it. A first
-- entry mints the next fencing token of this lock name (INCR of its counter key, which never
-- expires so that tokens never go backwards); a re-entry or a resent call returns the token
-- already minted.
--
-- With the waiters keys, a failed attempt that may wait registers the token as a waiter (by
-- arrival, in server ms), so that a release wakes only the longest-waiting one. Anyone may still
-- take a free lock (barging keeps the lock busy while the woken waiter's attempt is on its way),
-- unless the longest-waiting waiter has waited more than bargeBoundMs: then only it may take the
-- lock, which bounds how long any live waiter can be passed over. A waiter that may be handed the
-- lock also leaves its terms (ttl, how long a hand-off to it lasts unclaimed, fencing), so that a
-- release hands the lock to it at once (see lib/hand-to-head.lua) instead of waking it to try.
--
-- KEYS[1] lockKey: the lock hash.
-- KEYS[2] fenceKey: the lock's fencing counter.
-- KEYS[3] waitersKey (optional): the waiters, scored by arrival (server ms). Without it (Redlock)
--   nobody registers and anyone may take a free lock.
-- KEYS[4] deadlinesKey (optional): the waiters' deadlines, scored by the server ms at which a
--   registration lapses.
-- KEYS[5] termsKey (optional): the waiters' hand-off terms, token -> "ttl claimMs mintFence
--   handOff channel".
-- ARGV[1] token: owner token.
-- ARGV[2] ttl: ttl in ms.
-- ARGV[3] count: the hold count after this call (1 for a first entry; the holder's count + 1 for
--   a re-entry).
-- ARGV[4] mintFence: `1` to mint a fencing token.
-- ARGV[5] placeTtlMs (optional): how long this waiter's registration lasts without a new attempt,
--   in ms; `0` to not register (a last attempt, or `tryAcquire`), which also leaves the waiters.
-- ARGV[6] bargeBoundMs (optional): how long the longest-waiting waiter may be passed over, in ms.
-- ARGV[7] handOff (optional): `1` when a release may hand the lock to this waiter (its place ttl is
--   then also how long the hand-off lasts until the waiter claims it); `0` to only be woken.
-- ARGV[8] channel (optional): the waiter's Locker's wake channel; empty or absent when it has none
--   (it polls).
--
-- Returns `{1, count, fencingToken}` when the token holds the lock afterwards (its expiry set to
-- the ttl; fencingToken 0 when not minted), or `{0, pttl, registered}` when another owner holds
-- it, with that owner's remaining ms (-2 when the lock is free but kept for a waiter that has
-- waited too long, or for a re-entry (count > 1) into a lock that no longer exists: a broken hold
-- is never silently re-created), `registered` being 1 when the token now waits, and `serverNow`
-- the server's clock in ms (`{0, pttl, registered, serverNow}`) when the waiters keys were given,
-- so that the waiter can place a later hand-off's server time on its own clock.
local lockKey = KEYS[1]
local fenceKey = KEYS[2]
local waitersKey = KEYS[3]
local deadlinesKey = KEYS[4]
local termsKey = KEYS[5]
local token = ARGV[1]
local ttl = ARGV[2]
local count = ARGV[3]
local mintFence = ARGV[4]
local placeTtlMs = ARGV[5]
local bargeBoundMs = ARGV[6]
local handOff = ARGV[7]
local channel = ARGV[8]
--!include lib/server-now.lua
--!include lib/drop-lapsed-waiters.lua
--!include lib/take-lock.lua
--!include lib/keep-alive.lua
--!include lib/keep-terms.lua
--!include lib/leave-waiters.lua
--!include lib/join-queue.lua

local held = redis.call('HMGET', lockKey, 'owner', 'fence')
if not held[1] and tonumber(count) > 1 then
  return {0, -2}
end
if held[1] == token then
  return takeLock(lockKey, fenceKey, held, token, ttl, count, mintFence)
end
-- Nobody waits (the waiters keys expire with their last registration): the uncontended path.
if not waitersKey or (not held[1] and redis.call('EXISTS', waitersKey) == 0) then
  if held[1] then
    return {0, redis.call('PTTL', lockKey)}
  end
  return takeLock(lockKey, fenceKey, held, token, ttl, count, mintFence)
end
local now = serverNowMs()
dropLapsedWaiters(waitersKey, deadlinesKey, now, termsKey)
local head = redis.call('ZRANGE', waitersKey, 0, 0, 'WITHSCORES')
if not held[1] then
  if not head[1] or head[1] == token or now - tonumber(head[2]) <= tonumber(bargeBoundMs) then
    if head[1] then
      leaveWaiters(waitersKey, deadlinesKey, token, termsKey)
    end
    return takeLock(lockKey, fenceKey, held, token, ttl, count, mintFence)
  end
end
local remaining = -2
if held[1] then
  remaining = redis.call('PTTL', lockKey)
end
local placeTtl = tonumber(placeTtlMs)
if placeTtl <= 0 then
  if head[1] then
    leaveWaiters(waitersKey, deadlinesKey, token, termsKey)
  end
  return {0, remaining, 0, now}
end
joinQueue(waitersKey, token, now)
redis.call('ZADD', deadlinesKey, now + placeTtl, token)
keepAlive(waitersKey, placeTtl)
keepAlive(deadlinesKey, placeTtl)
keepTerms(termsKey, token, ttl, placeTtl, mintFence, handOff, channel)
return {0, remaining, 1, now}
