-- eachPermit(key, command, token, count, score): runs `command` (ZADD or ZREM) on the sorted set
-- `key` for the members `<token>:1` … `<token>:<count>`, each preceded by `score` when given, in
-- batches so that no call gets too many arguments.
local function eachPermit(key, command, token, count, score)
  local args = {}
  for i = 1, count do
    if score then
      args[#args + 1] = score
    end
    args[#args + 1] = token .. ':' .. i
    if #args >= 1000 or i == count then
      redis.call(command, key, unpack(args))
      args = {}
    end
  end
end
