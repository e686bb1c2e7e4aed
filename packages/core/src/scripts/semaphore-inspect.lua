-- semaphore-inspect: reads a semaphore's state in one step, for status checks and
-- `Semaphore.inspect`. Writes nothing: expired permits and lapsed waiters are skipped, not
-- dropped.
--
-- KEYS[1] permitsKey: the permits.
-- KEYS[2] fenceKey: the fencing counter.
-- KEYS[3] waitersKey: the waiters.
-- ARGV: none.
--
-- Returns `{now, permits, lastFencingToken, waiting}`: the server time in ms; the live permits as
-- a flat `{member, deadline, …}` list in deadline order; the counter (false if never minted); the
-- number of live waiter registrations.
local permitsKey = KEYS[1]
local fenceKey = KEYS[2]
local waitersKey = KEYS[3]
--!include lib/server-now.lua

local now = serverNowMs()
return {
  now,
  redis.call('ZRANGEBYSCORE', permitsKey, '(' .. now, '+inf', 'WITHSCORES'),
  redis.call('GET', fenceKey),
  redis.call('ZCOUNT', waitersKey, '(' .. now, '+inf')
}
