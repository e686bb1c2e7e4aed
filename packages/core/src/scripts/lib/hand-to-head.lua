-- handToHead(lockKey, fenceKey, queueKey, deadlinesKey, termsKey, now): gives a free
-- mutex to the longest-waiting live waiter inside the script that freed it, so that the next
-- holder needs no round trip of its own to take it. The waiter's terms (`termsKey`, set when it
-- registered: "ttl claimMs mintFence handOff channel") say how: the hold is taken for it with a
-- count of 1, a fencing token minted if it asked for one, and an expiry of min(ttl, claimMs) — a
-- waiter that died since its last attempt thus keeps the lock no longer than its registration
-- would have kept others waiting; a live one prolongs it to its ttl if it holds it longer. It
-- leaves the queue, and its Locker's wake channel gets "token fence grantedMs now", `now` being
-- the server ms of the hand-off, from which the waiter counts the hold's validity.
-- A waiter with handOff `0` (its channel was not yet confirmed, or it waits for replicas, which a
-- hand-off cannot) is only woken ("token" on its channel) and tries itself; one without terms (a
-- client of an earlier version) is woken with an empty message on its own channel, the lock's key,
-- `:wake:` and its token (a channel name, derived here rather than passed in).
-- Nothing happens when nobody waits. Calls takeLock and leaveWaiters: include lib/take-lock.lua
-- and lib/leave-waiters.lua before this file.
local function handToHead(lockKey, fenceKey, queueKey, deadlinesKey, termsKey, now)
  local head = redis.call('ZRANGE', queueKey, 0, 0)[1]
  if not head then
    return
  end
  local terms = redis.call('HGET', termsKey, head)
  local ttl, claimMs, mintFence, handOff, channel
  if terms then
    ttl, claimMs, mintFence, handOff, channel = string.match(terms, '^(%d+) (%d+) ([01]) ([01]) (.+)$')
  end
  if not ttl then
    redis.call('PUBLISH', lockKey .. ':wake:' .. head, '')
    return
  end
  if handOff ~= '1' then
    redis.call('PUBLISH', channel, head)
    return
  end
  local grantedMs = math.min(tonumber(ttl), tonumber(claimMs))
  local fence = takeLock(lockKey, fenceKey, {}, head, grantedMs, 1, mintFence)[3]
  leaveWaiters(queueKey, deadlinesKey, head, termsKey)
  redis.call('PUBLISH', channel, head .. ' ' .. fence .. ' ' .. grantedMs .. ' ' .. now)
end
