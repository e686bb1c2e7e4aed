-- release: leaves the mutex once: deletes it when the holder's count reaches zero, else lowers the
-- count. Never touches a lock held by another token. With the waiters keys, a full release hands
-- the lock to the longest-waiting registered waiter (lib/hand-to-head.lua), which learns it on its
-- Locker's wake channel without a round trip of its own; without them (Redlock) it publishes on the lock's
-- channel, so that a waiter wakes at once instead of sleeping until its next retry. Called by a
-- waiter that gives up, it leaves the waiters (and hands a free lock to the next one); a waiter
-- that gives up just after it was handed the lock releases it like a holder.
--
-- KEYS[1] lockKey: the lock hash.
-- KEYS[2] fenceKey (optional): the fencing counter (unused; passed so that the mutex scripts take
--   the same keys).
-- KEYS[3] waitersKey (optional): the waiters, scored by arrival. Without it (Redlock) the release
--   publishes on `channel`.
-- KEYS[4] deadlinesKey (optional): the waiters' deadlines.
-- KEYS[5] termsKey (optional): the waiters' hand-off terms.
-- ARGV[1] token: owner token.
-- ARGV[2] countAfter: the hold count after this call (0 releases fully).
-- ARGV[3] channel (optional): the channel to publish the release on when there are no waiters
--   keys; empty or absent to publish nothing (Redlock's clean-up of a failed attempt, which frees
--   no lock anyone could take and must not wake its own waiter).
--
-- Returns the remaining hold count (0 when the key was deleted), or -1 when this token does not
-- hold the lock (expired, or taken by someone else).
local lockKey = KEYS[1]
local fenceKey = KEYS[2]
local waitersKey = KEYS[3]
local deadlinesKey = KEYS[4]
local termsKey = KEYS[5]
local token = ARGV[1]
local countAfter = ARGV[2]
local channel = ARGV[3]
--!include lib/server-now.lua
--!include lib/drop-lapsed-waiters.lua
--!include lib/take-lock.lua
--!include lib/leave-waiters.lua
--!include lib/hand-to-head.lua

local owner = redis.call('HGET', lockKey, 'owner')
local waiting = waitersKey and redis.call('EXISTS', waitersKey) == 1
local now
if waiting then
  now = serverNowMs()
  dropLapsedWaiters(waitersKey, deadlinesKey, now, termsKey)
end
if owner ~= token then
  if waiting and leaveWaiters(waitersKey, deadlinesKey, token, termsKey) == 1 then
    if not owner then
      handToHead(lockKey, fenceKey, waitersKey, deadlinesKey, termsKey, now)
    end
  end
  return -1
end
local count = tonumber(countAfter)
if count <= 0 then
  redis.call('DEL', lockKey)
  if waiting then
    handToHead(lockKey, fenceKey, waitersKey, deadlinesKey, termsKey, now)
  elseif not waitersKey and channel and channel ~= '' then
    redis.call('PUBLISH', channel, '')
  end
  return 0
end
redis.call('HSET', lockKey, 'count', count)
return count
