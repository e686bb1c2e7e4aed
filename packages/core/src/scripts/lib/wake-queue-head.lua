-- wakeQueueHead(queueKey, channelPrefix): publishes on the wake channel of the waiter at the head
-- of the fair queue, if there is one; its channel is `channelPrefix` followed by its token.
local function wakeQueueHead(queueKey, channelPrefix)
  local head = redis.call('ZRANGE', queueKey, 0, 0)[1]
  if head then
    redis.call('PUBLISH', channelPrefix .. head, '')
  end
end
