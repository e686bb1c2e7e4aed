-- keepTerms(termsKey, token, ttl, placeTtl, mintFence, handOff, channel, permits): records a
-- registering waiter's hand-off terms, "ttl claimMs mintFence handOff channel" (the claim window
-- being its place ttl), as lib/hand-to-head.lua reads them — or, when `permits` is given (a
-- semaphore's waiter), "ttl claimMs mintFence handOff permits channel", as lib/hand-permits.lua
-- reads them — and keeps the hash alive as long as the place. Nothing is recorded for a waiter
-- without a wake channel (it polls). Calls keepAlive: include lib/keep-alive.lua before this file.
local function keepTerms(termsKey, token, ttl, placeTtl, mintFence, handOff, channel, permits)
  if not channel or channel == '' then
    return
  end
  local terms = ttl .. ' ' .. placeTtl .. ' ' .. mintFence .. ' ' .. handOff .. ' '
  if permits then
    terms = terms .. permits .. ' '
  end
  redis.call('HSET', termsKey, token, terms .. channel)
  keepAlive(termsKey, placeTtl)
end
