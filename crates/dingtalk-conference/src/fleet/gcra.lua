local max_wait = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local function tat_of(key)
  local tat = tonumber(redis.call('GET', key))
  if not tat or tat < now then return now end
  return tat
end
local function take(key, slot, interval)
  local new_tat = slot + tonumber(interval)
  redis.call('SET', key, string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1000)
end
local slot = tat_of(KEYS[1])
if #KEYS > 1 and slot == now then
  slot = tat_of(KEYS[2])
  if slot - now > max_wait then return {-1, string.format('%.0f', slot - now), 0} end
  take(KEYS[1], slot, ARGV[1])
  take(KEYS[2], slot, ARGV[3])
  return {1, string.format('%.0f', slot - now), 1}
end
if slot - now > max_wait then return {0, string.format('%.0f', slot - now), 0} end
take(KEYS[1], slot, ARGV[1])
return {1, string.format('%.0f', slot - now), #KEYS > 1 and 0 or 1}
