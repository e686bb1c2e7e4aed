-- multi-acquire: takes every mutex of a lock set for one token, all or nothing: when any member is
-- held by another token, nothing is written. Each member is a plain mutex hash (the `acquire`
-- script's), so a set and a single lock on one of its names exclude each other. A set hold mints
-- no fencing token (each member's `fence` is 0). Re-entry raises every member's count at once.
--
-- KEYS[1..] lockKeys: the lock hashes of the set's members, each once.
-- ARGV[1] token: owner token.
-- ARGV[2] ttl: ttl in ms.
-- ARGV[3] count: the hold count after this call (1 for a first entry; the holder's count + 1 for
--   a re-entry).
--
-- Returns `{1, count, 0}` when the token holds every member afterwards (each expiry set to the
-- ttl); `{0, pttl, 0, i}` when the member KEYS[i] is held by another owner, with that owner's
-- remaining ms; `{0, -2}` for a re-entry (count > 1) while a member no longer exists: a broken hold
-- is never silently re-created.
local lockKeys = {unpack(KEYS, 1)}
local token = ARGV[1]
local ttl = ARGV[2]
local count = ARGV[3]
--!include lib/take-lock.lua

local helds = {}
for i, lockKey in ipairs(lockKeys) do
  local held = redis.call('HMGET', lockKey, 'owner', 'fence')
  if held[1] and held[1] ~= token then
    return {0, redis.call('PTTL', lockKey), 0, i}
  end
  if not held[1] and tonumber(count) > 1 then
    return {0, -2}
  end
  helds[i] = held
end
for i, lockKey in ipairs(lockKeys) do
  takeLock(lockKey, nil, helds[i], token, ttl, count, '0')
end
return {1, tonumber(count), 0}
