-- semaphore-acquire: takes `permits` permits for this token if that keeps the permits in use
-- within `limit`. A token that already holds its permits (a resent call whose first reply was
-- lost) keeps them with a fresh deadline. Otherwise, when placeTtlMs allows, registers (or
-- refreshes) the token as a waiter, to be woken by a release. Anyone may take free permits
-- (barging keeps them busy while a woken waiter's attempt is on its way), unless waiters have
-- waited more than bargeBoundMs: then the permits are kept for them, oldest first.
--
-- KEYS[1] permitsKey: the permits, `<token>:<i>` scored by the server ms at which they expire.
-- KEYS[2] fenceKey: the fencing counter.
-- KEYS[3] waitersKey: the waiters, scored by the server ms at which their registration lapses.
-- KEYS[4] arrivalsKey: the same waiters, scored by arrival (server ms).
-- ARGV[1] token: owner token.
-- ARGV[2] ttl: ttl in ms.
-- ARGV[3] permitsArg: permits.
-- ARGV[4] limit: the limit (the caller's).
-- ARGV[5] mintFence: `1` to mint a fencing token.
-- ARGV[6] placeTtlMs: how long the waiter registration lasts without a new attempt, in ms; `0` to
--   not register (a last attempt, or `tryAcquire`), which also leaves the waiters.
-- ARGV[7] bargeBoundMs: how long a waiter may be passed over, in ms.
--
-- Returns `{1, permits, fencingToken}` when held afterwards (fencingToken 0 when not minted), or
-- `{0, permitsInUse, registered}` when not, `registered` being 1 when the token now waits.
local permitsKey = KEYS[1]
local fenceKey = KEYS[2]
local waitersKey = KEYS[3]
local arrivalsKey = KEYS[4]
local token = ARGV[1]
local ttl = ARGV[2]
local permitsArg = ARGV[3]
local limit = ARGV[4]
local mintFence = ARGV[5]
local placeTtlMs = ARGV[6]
local bargeBoundMs = ARGV[7]
--!include lib/server-now.lua
--!include lib/drop-expired.lua
--!include lib/drop-lapsed-waiters.lua
--!include lib/leave-waiters.lua
--!include lib/each-permit.lua
--!include lib/expire-at-latest.lua
--!include lib/keep-alive.lua

local now = serverNowMs()
dropExpired(permitsKey, now)
-- Nobody waits (the waiters keys expire with their last registration): the uncontended path.
local waiting = redis.call('EXISTS', arrivalsKey) == 1
if waiting then
  dropLapsedWaiters(arrivalsKey, waitersKey, now)
end
local permits = tonumber(permitsArg)
if not redis.call('ZSCORE', permitsKey, token .. ':1') then
  local inUse = redis.call('ZCARD', permitsKey)
  local free = tonumber(limit) - inUse
  local refused = permits > free
  if not refused and waiting then
    -- Waiters past the bound come first: the oldest `free` of them, or anyone who leaves them
    -- enough permits.
    local overdue = redis.call('ZCOUNT', arrivalsKey, '-inf', now - tonumber(bargeBoundMs))
    local rank = redis.call('ZRANK', arrivalsKey, token)
    refused = overdue > 0 and not (rank and rank < free) and free - permits < overdue
  end
  if refused then
    local placeTtl = tonumber(placeTtlMs)
    if placeTtl <= 0 then
      if waiting then
        leaveWaiters(arrivalsKey, waitersKey, token)
      end
      return {0, inUse, 0}
    end
    redis.call('ZADD', waitersKey, now + placeTtl, token)
    redis.call('ZADD', arrivalsKey, 'NX', now, token)
    expireAtLatest(waitersKey)
    keepAlive(arrivalsKey, placeTtl)
    return {0, inUse, 1}
  end
end
if waiting then
  leaveWaiters(arrivalsKey, waitersKey, token)
end
eachPermit(permitsKey, 'ZADD', token, permits, now + tonumber(ttl))
expireAtLatest(permitsKey)
local fence = 0
if mintFence == '1' then
  fence = redis.call('INCR', fenceKey)
end
return {1, permits, fence}
