-- inspect: reads a mutex's state in one step, for status checks and `Locker.inspect`.
--
-- KEYS[1] lockKey: the lock hash.
-- KEYS[2] fenceKey: the lock's fencing counter.
-- ARGV: none.
--
-- Returns `{owner, pttl, count, fencingToken, lastFencingToken}`: owner, count and fencingToken are
-- nil and pttl is -2 when the lock is free; lastFencingToken is the counter (nil if never minted).
local lockKey = KEYS[1]
local fenceKey = KEYS[2]

local fields = redis.call('HMGET', lockKey, 'owner', 'count', 'fence')
return {fields[1], redis.call('PTTL', lockKey), fields[2], fields[3], redis.call('GET', fenceKey)}
