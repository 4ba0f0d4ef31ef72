local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local i = string.find(v, ':', 1, true)
if i and string.sub(v, i + 1) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
