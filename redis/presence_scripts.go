package redis

import goredis "github.com/redis/go-redis/v9"

// The presence scripts share their keys and arguments:
//
//	KEYS[1]  <prefix>presence:{user}:conns  sorted set: member → last heartbeat (ms, server clock)
//	KEYS[2]  <prefix>presence:{user}:seen   last_seen (ms since the epoch)
//	ARGV[1]  the connection TTL in ms: a member whose score is older is dead
//	ARGV[2]  how long to keep the keys of an idle user, in ms (last_seen lives as long)
//
// Times of liveness come from the server's clock (TIME), so that the nodes' clocks do not
// matter; last_seen is the caller's time of the disconnection, as the interface says.
// purge, shared by the writing scripts, removes dead members and folds the newest of their
// heartbeats into last_seen: a user whose node died was last seen at its last heartbeat.
const presencePurge = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cutoff = now - tonumber(ARGV[1])
local keep = tonumber(ARGV[2])
local function purge()
  local dead = redis.call('ZRANGE', KEYS[1], '(' .. string.format('%.0f', cutoff), '-inf', 'BYSCORE', 'REV', 'LIMIT', 0, 1, 'WITHSCORES')
  if #dead == 0 then return end
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%.0f', cutoff))
  local heard = tonumber(dead[2])
  local seen = tonumber(redis.call('GET', KEYS[2]))
  if redis.call('ZCARD', KEYS[1]) == 0 and (not seen or heard > seen) then
    redis.call('SET', KEYS[2], string.format('%.0f', heard), 'PX', keep)
  end
end
`

// connectScript adds member ARGV[3] and returns 1 when the user had no live member before.
var connectScript = goredis.NewScript(presencePurge + `
purge()
local before = redis.call('ZCARD', KEYS[1])
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], keep)
if before == 0 then return 1 end
return 0
`)

// disconnectScript removes member ARGV[3] and, when that leaves the user with no live
// member, sets last_seen to ARGV[4] and returns 1. A member that had died unnoticed still
// counts as the last one: its own disconnection reports the user offline once.
var disconnectScript = goredis.NewScript(presencePurge + `
local had = redis.call('ZSCORE', KEYS[1], ARGV[3])
purge()
redis.call('ZREM', KEYS[1], ARGV[3])
if had and redis.call('ZCARD', KEYS[1]) == 0 then
  redis.call('SET', KEYS[2], ARGV[4], 'PX', keep)
  return 1
end
return 0
`)

// refreshScript is the heartbeat of one user's connections on one node: it stamps members
// ARGV[3..] with the current time, adding back any that another node purged while this one
// was slow, and keeps the key.
var refreshScript = goredis.NewScript(presencePurge + `
for i = 3, #ARGV do
  redis.call('ZADD', KEYS[1], now, ARGV[i])
end
redis.call('PEXPIRE', KEYS[1], keep)
return 0
`)

// readScript returns {online, last_seen ms or -1} without writing: online when any member
// is live; last_seen is the stored one or, when every member is dead, the newest of their
// heartbeats if later.
var readScript = goredis.NewScript(presencePurge + `
local online = redis.call('ZCOUNT', KEYS[1], cutoff, '+inf')
local seen = tonumber(redis.call('GET', KEYS[2])) or -1
if online == 0 then
  local dead = redis.call('ZRANGE', KEYS[1], '+inf', '-inf', 'BYSCORE', 'REV', 'LIMIT', 0, 1, 'WITHSCORES')
  if #dead > 0 and tonumber(dead[2]) > seen then seen = tonumber(dead[2]) end
  return {0, seen}
end
return {1, seen}
`)
