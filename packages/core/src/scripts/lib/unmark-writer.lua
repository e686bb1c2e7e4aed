-- unmarkWriter(writerKey, marksKey, token, channel): removes writer `token`'s mark from the
-- read-write lock's waiting-writer marks `marksKey`; when that was the last mark and no writer
-- holds the lock (`writerKey` absent), publishes on `channel`, so that readers held back by the
-- mark try again at once.
local function unmarkWriter(writerKey, marksKey, token, channel)
  if redis.call('ZREM', marksKey, token) == 1 and redis.call('EXISTS', marksKey) == 0
      and redis.call('EXISTS', writerKey) == 0 then
    redis.call('PUBLISH', channel, '')
  end
end
