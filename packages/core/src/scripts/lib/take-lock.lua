-- takeLock(lockKey, fenceKey, held, token, ttl, count, mintFence): takes the mutex hash `lockKey`
-- for `token` (or re-enters it), minting a fencing token from the counter `fenceKey` on a first
-- entry when `mintFence` is '1', and sets the hold count to `count` and the expiry to `ttl` ms.
-- `held` is the hash's `HMGET owner fence`, as the caller read it. Shared by the plain and the
-- fair acquire.
-- Returns `{1, count, fencingToken}` (fencingToken 0 when none was ever minted for this hold).
local function takeLock(lockKey, fenceKey, held, token, ttl, count, mintFence)
  local fence = tonumber(held[2]) or 0
  if not held[1] and mintFence == '1' then
    fence = redis.call('INCR', fenceKey)
  end
  redis.call('HSET', lockKey, 'owner', token, 'count', count, 'fence', fence)
  redis.call('PEXPIRE', lockKey, ttl)
  return {1, tonumber(count), fence}
end
