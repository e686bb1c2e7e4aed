-- semaphore-extend: prolongs this token's permits: adds ms to their remaining time, or sets it to
-- ms (replace). Background renewal is a replace with the ttl.
--
-- KEYS[1] permitsKey: the permits.
-- ARGV[1] token: owner token.
-- ARGV[2] ms: the time to add, or the new remaining time, in ms.
-- ARGV[3] replace: `1` to replace the remaining time, `0` to add.
-- ARGV[4] permits: its permits.
--
-- Returns the new remaining time in ms, or -1 when the token holds no permit (expired, deleted).
local permitsKey = KEYS[1]
local token = ARGV[1]
local ms = ARGV[2]
local replace = ARGV[3]
local permits = ARGV[4]
--!include lib/server-now.lua
--!include lib/drop-expired.lua
--!include lib/each-permit.lua
--!include lib/expire-at-latest.lua

local now = serverNowMs()
dropExpired(permitsKey, now)
local deadline = redis.call('ZSCORE', permitsKey, token .. ':1')
if not deadline then
  return -1
end
if replace == '1' then
  deadline = now + tonumber(ms)
else
  deadline = tonumber(deadline) + tonumber(ms)
end
eachPermit(permitsKey, 'ZADD', token, tonumber(permits), deadline)
expireAtLatest(permitsKey)
return deadline - now
