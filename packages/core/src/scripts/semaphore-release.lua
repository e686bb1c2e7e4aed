-- semaphore-release: gives back this token's permits, and leaves the waiters (a waiter that gives
-- up calls it too). Then wakes as many registered waiters as there are free permits by the
-- caller's limit, the longest-waiting first, each on its own channel. They stay registered until
-- they take their permits, so a waiter that lost the race keeps its place.
--
-- KEYS[1] permitsKey: the permits.
-- KEYS[2] fenceKey: the fencing counter (unused; every semaphore script takes the same keys).
-- KEYS[3] waitersKey: the waiters, scored by when their registration lapses.
-- KEYS[4] arrivalsKey: the waiters, scored by arrival.
-- ARGV[1] token: owner token.
-- ARGV[2] permits: its permits.
-- ARGV[3] limit: the limit (the caller's).
-- ARGV[4] wakePrefix: the wake channel prefix; a waiter's channel is this prefix followed by its
--   token.
--
-- Returns 0 when this token's permits were given back, -1 when it held none (expired, deleted, or
-- never acquired).
local permitsKey = KEYS[1]
local fenceKey = KEYS[2]
local waitersKey = KEYS[3]
local arrivalsKey = KEYS[4]
local token = ARGV[1]
local permits = ARGV[2]
local limit = ARGV[3]
local wakePrefix = ARGV[4]
--!include lib/server-now.lua
--!include lib/drop-expired.lua
--!include lib/drop-lapsed-waiters.lua
--!include lib/leave-waiters.lua
--!include lib/each-permit.lua

local now = serverNowMs()
dropExpired(permitsKey, now)
local waiting = redis.call('EXISTS', arrivalsKey) == 1
if waiting then
  dropLapsedWaiters(arrivalsKey, waitersKey, now)
  leaveWaiters(arrivalsKey, waitersKey, token)
end
local released = -1
if redis.call('ZSCORE', permitsKey, token .. ':1') then
  eachPermit(permitsKey, 'ZREM', token, tonumber(permits))
  released = 0
end
if not waiting then
  return released
end
local free = tonumber(limit) - redis.call('ZCARD', permitsKey)
if free > 0 then
  for _, waiter in ipairs(redis.call('ZRANGE', arrivalsKey, 0, free - 1)) do
    redis.call('PUBLISH', wakePrefix .. waiter, '')
  end
end
return released
