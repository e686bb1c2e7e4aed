-- serverNowMs(): the server's clock in ms. Primitives whose holders or waiters expire one by one
-- (semaphore permits, read holds, fair-queue places) keep those deadlines in server time, so that
-- no client's clock, however skewed, decides who expired.
local function serverNowMs()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
