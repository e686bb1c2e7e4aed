-- multi-inspect: reads a lock set's state in one step, in the shape of `inspect`'s reply, so that
-- a status check (and Redlock's majority view) reads a set as it reads one lock.
--
-- KEYS[1..] lockKeys: the lock hashes of the set's members.
-- ARGV: none.
--
-- Returns `{owner, pttl, count}`: when one owner holds every member, that owner, with the least
-- pttl and count among the members; when some member is held but no one owner holds them all,
-- owner `''` (never a token), pttl 0 and count 0; when every member is free, owner nil, pttl -2
-- and count nil.
local lockKeys = {unpack(KEYS, 1)}

local common = nil
local whole = true
local least = nil
local leastCount = nil
for _, lockKey in ipairs(lockKeys) do
  local fields = redis.call('HMGET', lockKey, 'owner', 'count')
  local owner = fields[1]
  if owner then
    local pttl = redis.call('PTTL', lockKey)
    local count = tonumber(fields[2])
    if not least or pttl < least then
      least = pttl
    end
    if not leastCount or count < leastCount then
      leastCount = count
    end
  end
  if common == nil then
    common = owner
  end
  if not owner or owner ~= common then
    whole = false
  end
end
if not least then
  return {false, -2, false}
end
if whole then
  return {common, least, leastCount}
end
return {'', 0, 0}
