-- rw-inspect: reads a read-write lock's state in one step, for status checks and
-- `ReadWriteLock.inspect`. Read-only: expired readers and lapsed marks are left out, not removed.
--
-- KEYS[1] writerKey: the writer hash (`owner`, `fence`).
-- KEYS[2] readersKey: the readers, scored by the server ms at which each read hold expires.
-- KEYS[3] marksKey: the waiting-writer marks, scored by the server ms at which each lapses.
-- KEYS[4] fenceKey: the fencing counter.
-- ARGV[1] token: a token whose read hold to report ('' for none).
-- ARGV[2] listAll: `1` to list every reader and waiting writer.
--
-- Returns `{owner, pttl, fence, readerCount, tokenRemaining, lastFencingToken, readers,
-- writersWaiting, now}`: owner and fence are nil and pttl -2 when no writer holds it;
-- tokenRemaining is the token's read hold's remaining ms (0 if none); lastFencingToken is the
-- counter (nil if never minted); readers and writersWaiting are flat `token, deadline` lists
-- (empty unless listAll is `1`), deadlines in server ms, and now is the server's time in ms.
local writerKey = KEYS[1]
local readersKey = KEYS[2]
local marksKey = KEYS[3]
local fenceKey = KEYS[4]
local token = ARGV[1]
local listAll = ARGV[2]
--!include lib/server-now.lua

local now = serverNowMs()
local writer = redis.call('HMGET', writerKey, 'owner', 'fence')
local after = '(' .. now
local tokenRemaining = 0
local deadline = token ~= '' and redis.call('ZSCORE', readersKey, token)
if deadline and tonumber(deadline) > now then
  tokenRemaining = tonumber(deadline) - now
end
local readers, waiting = {}, {}
if listAll == '1' then
  readers = redis.call('ZRANGEBYSCORE', readersKey, after, '+inf', 'WITHSCORES')
  waiting = redis.call('ZRANGEBYSCORE', marksKey, after, '+inf', 'WITHSCORES')
end
return {writer[1], redis.call('PTTL', writerKey), writer[2], redis.call('ZCOUNT', readersKey, after, '+inf'),
  tokenRemaining, redis.call('GET', fenceKey), readers, waiting, now}
