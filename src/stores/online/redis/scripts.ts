/**
 * The Lua scripts of the Redis OnlineStore: the rules that must hold even when several writers race (two
 * materializations, a materialization and a version change) run inside Redis, atomically, one key per call — so
 * they also stay valid on a Redis Cluster (no script touches two keys).
 *
 * Layout they assume (see store.ts): an entity hash holds, per view, `_ts:VIEW` = "GEN:TS" (the definition
 * generation the values belong to, and their event time in epoch ms) and one field `VIEW:FEATURE` per feature (JSON);
 * a view's meta hash holds `version`, `gen` (bumped on every version change) and `watermark`.
 */

/** Deletes every `VIEW:…` field of KEYS[1] (the view's feature values, whatever definition wrote them). */
const DROP_VIEW = `
local function dropView(key, view)
  local prefix = view .. ':'
  local n = #prefix
  local drop = {}
  for _, f in ipairs(redis.call('HKEYS', key)) do
    if string.sub(f, 1, n) == prefix then drop[#drop + 1] = f end
  end
  for i = 1, #drop, 1000 do redis.call('HDEL', key, unpack(drop, i, math.min(i + 999, #drop))) end
end
local function genOf(stamp)
  local sep = string.find(stamp, ':', 1, true)
  return tonumber(string.sub(stamp, 1, sep - 1)), tonumber(string.sub(stamp, sep + 1))
end
`;

/**
 * Keep-if-newer upsert of one entity's values for one view. KEYS[1] entity hash; ARGV: view, gen, ts, then
 * field/value pairs. A stored row of a newer generation, or of the same generation and an equal or newer ts, wins
 * (returns 0). Otherwise the view's old fields are dropped — the new row replaces all of them, as in SQLite — and the
 * row is written (returns 1).
 */
export const WRITE = `${DROP_VIEW}
local tsField = '_ts:' .. ARGV[1]
local gen = tonumber(ARGV[2])
local cur = redis.call('HGET', KEYS[1], tsField)
if cur then
  local curGen, curTs = genOf(cur)
  if curGen > gen or (curGen == gen and curTs >= tonumber(ARGV[3])) then return 0 end
  dropView(KEYS[1], ARGV[1])
end
redis.call('HSET', KEYS[1], tsField, ARGV[2] .. ':' .. ARGV[3])
for i = 4, #ARGV, 2000 do redis.call('HSET', KEYS[1], unpack(ARGV, i, math.min(i + 1999, #ARGV))) end
return 1
`;

/**
 * Makes KEYS[1] (a view's meta hash) hold version ARGV[1]; a different version bumps the generation (so every value
 * of the old one is dead at once) and clears the watermark. ARGV[2], unless empty, is then stored as the watermark.
 * Returns { gen, changed } — changed is 1 when an older version was replaced (its values are then purged).
 */
export const ENSURE = `
local version = redis.call('HGET', KEYS[1], 'version')
local gen
local changed = 0
if version == ARGV[1] then
  gen = tonumber(redis.call('HGET', KEYS[1], 'gen'))
else
  gen = redis.call('HINCRBY', KEYS[1], 'gen', 1)
  redis.call('HSET', KEYS[1], 'version', ARGV[1])
  redis.call('HDEL', KEYS[1], 'watermark')
  if version then changed = 1 end
end
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'watermark', ARGV[2]) end
return { gen, changed }
`;

/**
 * Frees the memory of an old definition: drops view ARGV[1]'s fields from KEYS[1] when they belong to a generation
 * older than ARGV[2]. Values of the current (or a newer) generation are never touched. Returns 1 when it dropped.
 */
export const PURGE = `${DROP_VIEW}
local tsField = '_ts:' .. ARGV[1]
local cur = redis.call('HGET', KEYS[1], tsField)
if not cur then return 0 end
local curGen = genOf(cur)
if curGen >= tonumber(ARGV[2]) then return 0 end
redis.call('HDEL', KEYS[1], tsField)
dropView(KEYS[1], ARGV[1])
return 1
`;
