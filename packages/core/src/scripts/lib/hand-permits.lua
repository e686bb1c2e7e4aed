-- handPermits(permitsKey, fenceKey, fencesKey, arrivalsKey, waitersKey, termsKey, limit, now):
-- gives a semaphore's free permits (by `limit`) to its longest-waiting live
-- waiters, in arrival order, inside the script that freed them, so that the next holders need no
-- round trip of their own. Each waiter's terms (`termsKey`, set when it registered: "ttl claimMs
-- mintFence handOff permits channel") say how: its permits are taken for it with an expiry of
-- min(ttl, claimMs) — a waiter that died since its last attempt keeps them no longer than its
-- registration would have kept others waiting —, a fencing token is minted if it asked for one and
-- kept in `fencesKey` (token -> fence) for an attempt of that waiter already on its way, which
-- finds the permits its own and must report the same token; it leaves the waiters, and its
-- Locker's wake channel gets "token fence grantedMs now". Stops at the first waiter whose permits
-- do not fit, so that a large request is not passed over for ever by small ones behind it.
-- A waiter with handOff `0` is only woken ("token" on its channel) and tries itself; one without
-- terms (a client of an earlier version) is woken with an empty message on its own channel,
-- `permitsKey`, `:wake:` and its token (a channel name, derived here rather than passed in). Both keep their place, and the permits they may take are counted as spoken for.
-- Calls eachPermit, expireAtLatest, keepAlive and leaveWaiters: include lib/each-permit.lua,
-- lib/expire-at-latest.lua, lib/keep-alive.lua and lib/leave-waiters.lua before this file.
local function handPermits(permitsKey, fenceKey, fencesKey, arrivalsKey, waitersKey, termsKey, limit, now)
  local free = tonumber(limit) - redis.call('ZCARD', permitsKey)
  -- Woken waiters stay in the queue: the next one to serve is after them.
  local woken = 0
  while free > 0 do
    local head = redis.call('ZRANGE', arrivalsKey, woken, woken)[1]
    if not head then
      return
    end
    local terms = redis.call('HGET', termsKey, head)
    local ttl, claimMs, mintFence, handOff, permits, channel
    if terms then
      ttl, claimMs, mintFence, handOff, permits, channel =
        string.match(terms, '^(%d+) (%d+) ([01]) ([01]) (%d+) (.+)$')
    end
    if not ttl then
      redis.call('PUBLISH', permitsKey .. ':wake:' .. head, '')
      woken = woken + 1
      free = free - 1
    elseif handOff ~= '1' then
      redis.call('PUBLISH', channel, head)
      woken = woken + 1
      free = free - tonumber(permits)
    else
      permits = tonumber(permits)
      if permits > free then
        return
      end
      local grantedMs = math.min(tonumber(ttl), tonumber(claimMs))
      eachPermit(permitsKey, 'ZADD', head, permits, now + grantedMs)
      expireAtLatest(permitsKey)
      local fence = 0
      if mintFence == '1' then
        fence = redis.call('INCR', fenceKey)
        redis.call('HSET', fencesKey, head, fence)
        keepAlive(fencesKey, tonumber(ttl))
      end
      leaveWaiters(arrivalsKey, waitersKey, head, termsKey)
      redis.call('PUBLISH', channel, head .. ' ' .. fence .. ' ' .. grantedMs .. ' ' .. now)
      free = free - permits
    end
  end
end
