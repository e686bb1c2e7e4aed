-- fair-release: leaves the fair mutex once, like the mutex's release, and on a full release hands
-- the lock to the waiter at the head of the queue (lib/hand-to-head.lua). Called by a waiter that
-- gives up, it leaves the queue (and hands a free lock to the next waiter, since that one may have
-- been waiting behind it).
--
-- KEYS[1] lockKey: the lock hash.
-- KEYS[2] fenceKey: the fencing counter (unused; passed so every fair script takes the same keys).
-- KEYS[3] queueKey: the queue.
-- KEYS[4] deadlinesKey: the queue deadlines.
-- KEYS[5] termsKey: the queued waiters' hand-off terms.
-- ARGV[1] token: owner token.
-- ARGV[2] countAfter: the hold count after this call (0 releases fully).
--
-- Returns the remaining hold count (0 when the key was deleted), or -1 when this token does not
-- hold the lock.
local lockKey = KEYS[1]
local fenceKey = KEYS[2]
local queueKey = KEYS[3]
local deadlinesKey = KEYS[4]
local termsKey = KEYS[5]
local token = ARGV[1]
local countAfter = ARGV[2]
--!include lib/server-now.lua
--!include lib/drop-lapsed-waiters.lua
--!include lib/take-lock.lua
--!include lib/leave-waiters.lua
--!include lib/hand-to-head.lua

local now = serverNowMs()
dropLapsedWaiters(queueKey, deadlinesKey, now, termsKey)
leaveWaiters(queueKey, deadlinesKey, token, termsKey)
local owner = redis.call('HGET', lockKey, 'owner')
if owner ~= token then
  if not owner then
    handToHead(lockKey, fenceKey, queueKey, deadlinesKey, termsKey, now)
  end
  return -1
end
local count = tonumber(countAfter)
if count <= 0 then
  redis.call('DEL', lockKey)
  handToHead(lockKey, fenceKey, queueKey, deadlinesKey, termsKey, now)
  return 0
end
redis.call('HSET', lockKey, 'count', count)
return count
