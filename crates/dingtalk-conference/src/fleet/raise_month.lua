local n = tonumber(redis.call('GET', KEYS[1]) or '0')
local at_least = tonumber(ARGV[1])
if n >= at_least then return n end
redis.call('SET', KEYS[1], at_least, 'PX', ARGV[2])
return at_least
