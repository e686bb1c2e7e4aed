-- rw-write-release: ends the write hold and publishes on the channel, so that readers and writers
-- waiting try again at once. Called by a writer that gave up without the lock, it removes that
-- writer's mark (and publishes when that was the last mark and the lock is free).
--
-- KEYS[1] writerKey: the writer hash (`owner`, `fence`).
-- KEYS[2] readersKey: the readers, scored by the server ms at which each read hold expires.
-- KEYS[3] marksKey: the waiting-writer marks, scored by the server ms at which each lapses.
-- KEYS[4] fenceKey: the fencing counter.
-- ARGV[1] token: owner token.
-- ARGV[2] channel: the release channel.
--
-- Returns 0 when the write hold was released, or -1 when this token did not hold it.
local writerKey = KEYS[1]
local readersKey = KEYS[2]
local marksKey = KEYS[3]
local fenceKey = KEYS[4]
local token = ARGV[1]
local channel = ARGV[2]
--!include lib/server-now.lua
--!include lib/drop-expired.lua
--!include lib/unmark-writer.lua

if redis.call('HGET', writerKey, 'owner') == token then
  redis.call('DEL', writerKey)
  redis.call('PUBLISH', channel, '')
  return 0
end
dropExpired(marksKey, serverNowMs())
unmarkWriter(writerKey, marksKey, token, channel)
return -1
