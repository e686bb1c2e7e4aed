-- semaphore-release: gives back this token's permits, and leaves the waiters (a waiter that gives
-- up calls it too; one that gives up just after it was handed permits gives them back like a
-- holder). Then hands the free permits, by the caller's limit, to the longest-waiting waiters
-- (lib/hand-permits.lua), each told on its Locker's wake channel.
--
-- KEYS[1] permitsKey: the permits.
-- KEYS[2] fenceKey: the fencing counter (for the permits handed over).
-- KEYS[3] waitersKey: the waiters, scored by when their registration lapses.
-- KEYS[4] arrivalsKey: the waiters, scored by arrival.
-- KEYS[5] termsKey: the waiters' hand-off terms.
-- KEYS[6] fencesKey: the fencing tokens of permits handed over.
-- ARGV[1] token: owner token.
-- ARGV[2] permits: its permits.
-- ARGV[3] limit: the limit (the caller's).
--
-- Returns 0 when this token's permits were given back, -1 when it held none (expired, deleted, or
-- never acquired).
local permitsKey = KEYS[1]
local fenceKey = KEYS[2]
local waitersKey = KEYS[3]
local arrivalsKey = KEYS[4]
local termsKey = KEYS[5]
local fencesKey = KEYS[6]
local token = ARGV[1]
local permits = ARGV[2]
local limit = ARGV[3]
--!include lib/server-now.lua
--!include lib/drop-expired.lua
--!include lib/drop-lapsed-waiters.lua
--!include lib/leave-waiters.lua
--!include lib/each-permit.lua
--!include lib/expire-at-latest.lua
--!include lib/keep-alive.lua
--!include lib/hand-permits.lua

local now = serverNowMs()
dropExpired(permitsKey, now)
local waiting = redis.call('EXISTS', arrivalsKey) == 1
if waiting then
  dropLapsedWaiters(arrivalsKey, waitersKey, now, termsKey)
  leaveWaiters(arrivalsKey, waitersKey, token, termsKey)
end
local released = -1
if redis.call('ZSCORE', permitsKey, token .. ':1') then
  eachPermit(permitsKey, 'ZREM', token, tonumber(permits))
  redis.call('HDEL', fencesKey, token)
  released = 0
end
if waiting then
  handPermits(permitsKey, fenceKey, fencesKey, arrivalsKey, waitersKey, termsKey, limit, now)
end
return released
