local max_wait = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local has_ip = ARGV[3] ~= nil and ARGV[3] ~= ''
-- After a failover, how long every caller keeps to its own share as well (µs): when the
-- node serving the app's keys is not the one that last wrote them (its run_id, recorded in
-- the last key, replicated with the rest), the old master died or the slot moved, and the
-- members that went alone meanwhile sent calls this node never counted.
local cautious = 0
if ARGV[4] then
  local info = redis.pcall('INFO', 'server')
  local node = type(info) == 'string' and string.match(info, 'run_id:(%w+)')
  if node then
    local marker = KEYS[#KEYS]
    local seen = redis.call('HMGET', marker, 'node', 'until')
    local till = tonumber(seen[2]) or 0
    if seen[1] ~= node then
      if seen[1] then till = now + tonumber(ARGV[4]) end
      redis.call('HSET', marker, 'node', node, 'until', string.format('%.0f', till))
    end
    if till > now then cautious = till - now end
  end
end
local function tat_of(key)
  local tat = tonumber(redis.call('GET', key))
  if not tat or tat < now then return now end
  return tat
end
local function take(key, slot, interval)
  local new_tat = slot + tonumber(interval)
  redis.call('SET', key, string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1000)
end
local c = string.format('%.0f', cautious)
local slot = tat_of(KEYS[1])
if has_ip and slot == now then
  slot = tat_of(KEYS[2])
  if slot - now > max_wait then return {-1, string.format('%.0f', slot - now), 0, c} end
  take(KEYS[1], slot, ARGV[1])
  take(KEYS[2], slot, ARGV[3])
  return {1, string.format('%.0f', slot - now), 1, c}
end
if slot - now > max_wait then return {0, string.format('%.0f', slot - now), 0, c} end
take(KEYS[1], slot, ARGV[1])
return {1, string.format('%.0f', slot - now), has_ip and 0 or 1, c}
