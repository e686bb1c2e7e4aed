-- acquire: takes the mutex if it is free, or re-enters it if this token already holds it. A first
-- entry mints the next fencing token of this lock name (INCR of its counter key, which never
-- expires so that tokens never go backwards); a re-entry or a resent call returns the token
-- already minted.
--
-- KEYS[1] lockKey: the lock hash.
-- KEYS[2] fenceKey: the lock's fencing counter.
-- ARGV[1] token: owner token.
-- ARGV[2] ttl: ttl in ms.
-- ARGV[3] count: the hold count after this call (1 for a first entry; the holder's count + 1 for
--   a re-entry).
-- ARGV[4] mintFence: `1` to mint a fencing token.
--
-- Returns `{1, count, fencingToken}` when the token holds the lock afterwards (its expiry set to
-- the ttl; fencingToken 0 when not minted), or `{0, pttl}` when another owner holds it, with that
-- owner's remaining ms, or `{0, -2}` for a re-entry (count > 1) into a lock that no longer exists:
-- a broken hold is never silently re-created.
local lockKey = KEYS[1]
local fenceKey = KEYS[2]
local token = ARGV[1]
local ttl = ARGV[2]
local count = ARGV[3]
local mintFence = ARGV[4]
--!include lib/take-lock.lua

local held = redis.call('HMGET', lockKey, 'owner', 'fence')
if held[1] and held[1] ~= token then
  return {0, redis.call('PTTL', lockKey)}
end
if not held[1] and tonumber(count) > 1 then
  return {0, -2}
end
return takeLock(lockKey, fenceKey, held, token, ttl, count, mintFence)
