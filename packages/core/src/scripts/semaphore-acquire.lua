-- semaphore-acquire: takes `permits` permits for this token if that keeps the permits in use
-- within `limit`. A token that already holds its permits (a release handed them to it while this
-- attempt was on its way, or a resent call whose first reply was lost) keeps them with a fresh
-- deadline and the fencing token they were given. Otherwise, when placeTtlMs allows, registers
-- (or refreshes) the token as a waiter, with its hand-off terms, so that a release hands it the
-- permits (lib/hand-permits.lua). Anyone may take free permits (barging keeps them busy), unless
-- waiters have waited more than bargeBoundMs: then the permits are kept for them, oldest first.
-- Permits still free after this token's turn, while others wait, are handed to them here.
--
-- KEYS[1] permitsKey: the permits, `<token>:<i>` scored by the server ms at which they expire.
-- KEYS[2] fenceKey: the fencing counter.
-- KEYS[3] waitersKey: the waiters, scored by the server ms at which their registration lapses.
-- KEYS[4] arrivalsKey: the same waiters, scored by arrival (server ms).
-- KEYS[5] termsKey: the waiters' hand-off terms, token -> "ttl claimMs mintFence handOff permits
--   channel".
-- KEYS[6] fencesKey: the fencing tokens of permits handed over, token -> fence.
-- ARGV[1] token: owner token.
-- ARGV[2] ttl: ttl in ms.
-- ARGV[3] permitsArg: permits.
-- ARGV[4] limit: the limit (the caller's).
-- ARGV[5] mintFence: `1` to mint a fencing token.
-- ARGV[6] placeTtlMs: how long the waiter registration lasts without a new attempt, in ms; `0` to
--   not register (a last attempt, or `tryAcquire`), which also leaves the waiters.
-- ARGV[7] bargeBoundMs: how long a waiter may be passed over, in ms.
-- ARGV[8] handOff (optional): `1` when a release may hand the permits to this waiter (its place
--   ttl is then also how long they are kept until the waiter claims them); `0` to only be woken.
-- ARGV[9] channel (optional): the waiter's Locker's wake channel; empty or absent when it has none
--   (it polls).
--
-- Returns `{1, permits, fencingToken}` when held afterwards (fencingToken 0 when not minted), or
-- `{0, permitsInUse, registered, serverNow}` when not, `registered` being 1 when the token now
-- waits and `serverNow` the server's clock in ms, so that the waiter can place a later hand-off's
-- server time on its own clock.
local permitsKey = KEYS[1]
local fenceKey = KEYS[2]
local waitersKey = KEYS[3]
local arrivalsKey = KEYS[4]
local termsKey = KEYS[5]
local fencesKey = KEYS[6]
local token = ARGV[1]
local ttl = ARGV[2]
local permitsArg = ARGV[3]
local limit = ARGV[4]
local mintFence = ARGV[5]
local placeTtlMs = ARGV[6]
local bargeBoundMs = ARGV[7]
local handOff = ARGV[8]
local channel = ARGV[9]
--!include lib/server-now.lua
--!include lib/drop-expired.lua
--!include lib/drop-lapsed-waiters.lua
--!include lib/leave-waiters.lua
--!include lib/each-permit.lua
--!include lib/expire-at-latest.lua
--!include lib/keep-alive.lua
--!include lib/keep-terms.lua
--!include lib/join-queue.lua
--!include lib/hand-permits.lua

local now = serverNowMs()
dropExpired(permitsKey, now)
-- Nobody waits (the waiters keys expire with their last registration): the uncontended path.
local waiting = redis.call('EXISTS', arrivalsKey) == 1
if waiting then
  dropLapsedWaiters(arrivalsKey, waitersKey, now, termsKey)
end
local permits = tonumber(permitsArg)
-- Its own already: a release handed them over while this attempt was on its way, or a resent call.
local holds = redis.call('ZSCORE', permitsKey, token .. ':1')
local inUse = 0
local refused = false
if not holds then
  inUse = redis.call('ZCARD', permitsKey)
  local free = tonumber(limit) - inUse
  refused = permits > free
  if not refused and waiting then
    -- Waiters past the bound come first: the oldest `free` of them, or anyone who leaves them
    -- enough permits.
    local overdue = redis.call('ZCOUNT', arrivalsKey, '-inf', now - tonumber(bargeBoundMs))
    local rank = redis.call('ZRANK', arrivalsKey, token)
    refused = overdue > 0 and not (rank and rank < free) and free - permits < overdue
  end
end
local result
if not refused then
  if waiting then
    leaveWaiters(arrivalsKey, waitersKey, token, termsKey)
  end
  eachPermit(permitsKey, 'ZADD', token, permits, now + tonumber(ttl))
  expireAtLatest(permitsKey)
  -- Permits held already keep the fencing token they were given.
  local fence = holds and tonumber(redis.call('HGET', fencesKey, token))
  if not fence then
    fence = 0
    if mintFence == '1' then
      fence = redis.call('INCR', fenceKey)
    end
  end
  result = {1, permits, fence}
else
  local placeTtl = tonumber(placeTtlMs)
  if placeTtl <= 0 then
    if waiting then
      leaveWaiters(arrivalsKey, waitersKey, token, termsKey)
    end
    result = {0, inUse, 0, now}
  else
    redis.call('ZADD', waitersKey, now + placeTtl, token)
    joinQueue(arrivalsKey, token, now)
    expireAtLatest(waitersKey)
    keepAlive(arrivalsKey, placeTtl)
    keepTerms(termsKey, token, ttl, placeTtl, mintFence, handOff, channel, permits)
    waiting = true
    result = {0, inUse, 1, now}
  end
end
-- Permits left free while others wait (they expired, possibly with the whole key, or a release
-- of an earlier version only woke their waiters) go to those waiters now.
if waiting then
  handPermits(permitsKey, fenceKey, fencesKey, arrivalsKey, waitersKey, termsKey, limit, now)
end
return result
