-- semaphore-acquire: takes `permits` permits for this token if that keeps the permits in use
-- within `limit`. A token that already holds its permits (a resent call whose first reply was
-- lost) keeps them with a fresh deadline. Otherwise, when placeTtlMs allows, registers (or
-- refreshes) the token as a waiter, to be woken by a release.
--
-- KEYS[1] permitsKey: the permits, `<token>:<i>` scored by the server ms at which they expire.
-- KEYS[2] fenceKey: the fencing counter.
-- KEYS[3] waitersKey: the waiters, scored by the server ms at which their registration lapses.
-- ARGV[1] token: owner token.
-- ARGV[2] ttl: ttl in ms.
-- ARGV[3] permitsArg: permits.
-- ARGV[4] limit: the limit (the caller's).
-- ARGV[5] mintFence: `1` to mint a fencing token.
-- ARGV[6] placeTtlMs: how long the waiter registration lasts without a new attempt, in ms; `0` to
--   not register (a last attempt, or `tryAcquire`), which also leaves the waiters.
--
-- Returns `{1, permits, fencingToken}` when held afterwards (fencingToken 0 when not minted), or
-- `{0, permitsInUse, registered}` when not, `registered` being 1 when the token now waits.
local permitsKey = KEYS[1]
local fenceKey = KEYS[2]
local waitersKey = KEYS[3]
local token = ARGV[1]
local ttl = ARGV[2]
local permitsArg = ARGV[3]
local limit = ARGV[4]
local mintFence = ARGV[5]
local placeTtlMs = ARGV[6]
--!include lib/server-now.lua
--!include lib/drop-expired.lua
--!include lib/each-permit.lua
--!include lib/expire-at-latest.lua

local now = serverNowMs()
dropExpired(permitsKey, now)
dropExpired(waitersKey, now)
local permits = tonumber(permitsArg)
if not redis.call('ZSCORE', permitsKey, token .. ':1') then
  local inUse = redis.call('ZCARD', permitsKey)
  if inUse + permits > tonumber(limit) then
    local placeTtl = tonumber(placeTtlMs)
    if placeTtl <= 0 then
      redis.call('ZREM', waitersKey, token)
      return {0, inUse, 0}
    end
    redis.call('ZADD', waitersKey, now + placeTtl, token)
    expireAtLatest(waitersKey)
    return {0, inUse, 1}
  end
end
redis.call('ZREM', waitersKey, token)
eachPermit(permitsKey, 'ZADD', token, permits, now + tonumber(ttl))
expireAtLatest(permitsKey)
local fence = 0
if mintFence == '1' then
  fence = redis.call('INCR', fenceKey)
end
return {1, permits, fence}
