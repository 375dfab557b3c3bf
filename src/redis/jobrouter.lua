#!lua name=jobrouter

--[[
jobrouter's Redis Functions library: the Redis store's state changes, each one atomic.

Loaded by the binary with FUNCTION LOAD REPLACE at start (src/redis/function_library.cpp), which
then checks that `jobrouter_version` answers the LIBRARY_VERSION below. The source is compiled
into the binary (cmake/embed_file.cmake).

Matching follows ../shared/docs/matching.md exactly: ranking (section 1), R1-R4 (section 3),
D1-D9 (section 4). A claim reads only the index keys of the keys the worker offers: per
service_required, the requirement classes ordered by their head job's score
(jobrouter:heads:<service_required>), their head jobs' scores and ids (jobrouter:head_scores:
and jobrouter:head_ids:<service_required>), and per class its pending jobs
(jobrouter:class:<id>).
It evaluates each class at most once and stops at the first class whose head cannot beat the
best match found, so it never walks the backlog (section 5). Whether a worker passes a class
is memoized (see `memo` below), so a class a worker is known to fail costs no call.

Calling convention: every function is called with 0 keys. Those that change jobs or workers
take `now` (ms) as their first argument (findMatchingJob, EMP's convention, uses the server's
clock instead); the stored clock moves to max(stored, now) and every timed effect due by then is
applied first (leases that ran out, back-offs that ended), in order of due time, ties by job id
ascending. Replies are arrays whose first element is a status: 'ok' or an error code
('unknown_job', 'unknown_worker', 'not_assigned' + status, 'already_final' + status,
'duplicate'); the C++ side turns codes into messages, so both stores word them alike.

JSON: Redis 7.0's cjson decodes {} and [] alike and has no array metatable. `decode` below
rewrites empty arrays before decoding and tags every array with the ARRAY metatable, so the
kinds stay apart (D9); numbers are compared as the doubles cjson reads (strtod, exact). Lua's
`<` on strings uses strcoll; ids are compared byte-wise with `bytes_greater` instead.
--]]

local LIBRARY_VERSION = 6

local PENDING = 'jobs:pending'
local TIMERS = 'jobrouter:timers'
local META = 'jobrouter:meta'
local WORKERS = 'jobrouter:workers'
local WORKER_TYPES = 'jobrouter:worker_types'
-- Counts the changes to what the registered workers can take (a worker joined, left, or came
-- back with other capabilities): serve keeps the workers' capabilities per process and reads
-- them again only when this moved (submit warnings, see jobrouter_serve_submit).
local WORKERS_GEN = 'jobrouter:workers_gen'

local function job_key(id) return 'job:' .. id end
local function worker_key(id) return 'worker:' .. id end
local function active_key(worker_id) return 'jobs:active:' .. worker_id end
local function class_key(class_id) return 'jobrouter:class:' .. class_id end
local function heads_key(service_required) return 'jobrouter:heads:' .. service_required end
local function head_ids_key(service_required) return 'jobrouter:head_ids:' .. service_required end
local function head_scores_key(service_required) return 'jobrouter:head_scores:' .. service_required end

-- The three index keys of a service_required, built once per Lua state (a claim names them for
-- every key the worker offers); bounded like the memo below.
local SERVICE_KEYS_LIMIT = 10000
local service_keys, service_keys_size = {}, 0
local function index_keys(service_required)
  local k = service_keys[service_required]
  if not k then
    if service_keys_size >= SERVICE_KEYS_LIMIT then service_keys, service_keys_size = {}, 0 end
    k = { heads = heads_key(service_required), ids = head_ids_key(service_required),
          scores = head_scores_key(service_required) }
    service_keys[service_required] = k
    service_keys_size = service_keys_size + 1
  end
  return k
end

-- Integers up to 2^53 as plain digits (tostring would write 4.5e+15). Times are whole ms: '%d'
-- writes them the same as '%.17g' for far less work (glibc's float formatting is slow).
local function num(x)
  if x == math.floor(x) and x > -9007199254740992 and x < 9007199254740992 then return string.format('%d', x) end
  return string.format('%.17g', x)
end

-- Decimal text -> number, for texts that repeat: head scores (ties are common) and the
-- configuration. Bounded like the memo below. (tonumber runs strtod, which is slow for numbers of
-- 14+ digits; a table lookup of an interned string is not.)
local NUMBERS_LIMIT = 100000
local numbers, numbers_size = {}, 0
local function cached_number(text)
  local x = numbers[text]
  if x == nil then
    x = tonumber(text)
    if x == nil then return nil end
    if numbers_size >= NUMBERS_LIMIT then numbers, numbers_size = {}, 0 end
    numbers[text] = x
    numbers_size = numbers_size + 1
  end
  return x
end

---------------------------------------------------------------------------------------------
-- JSON with kinds kept apart

local ARRAY = {}
local EMPTY_ARRAY_KEY = '\0jobrouter:empty-array'
local EMPTY_ARRAY_JSON = '{"\\u0000jobrouter:empty-array":true}'


local function is_array(v) return type(v) == 'table' and getmetatable(v) == ARRAY end
local function is_object(v) return type(v) == 'table' and getmetatable(v) ~= ARRAY end

-- Replaces each empty array outside strings by a marker object that `tag` turns back into an
-- empty array.
local function mark_empty_arrays(s)
  if not string.find(s, '%[%s*%]') then return s end
  local out, pos, n = {}, 1, #s
  while true do
    local i = string.find(s, '["%[]', pos)
    if not i then break end
    if string.byte(s, i) == 34 then -- '"': copy the string through its closing quote
      local j = i + 1
      while true do
        local k = string.find(s, '["\\]', j)
        if not k then j = n + 1 break end
        if string.byte(s, k) == 92 then j = k + 2 else j = k + 1 break end
      end
      out[#out + 1] = string.sub(s, pos, j - 1)
      pos = j
    else
      local _, b = string.find(s, '^%[%s*%]', i)
      if b then
        out[#out + 1] = string.sub(s, pos, i - 1)
        out[#out + 1] = EMPTY_ARRAY_JSON
        pos = b + 1
      else
        out[#out + 1] = string.sub(s, pos, i)
        pos = i + 1
      end
    end
  end
  out[#out + 1] = string.sub(s, pos)
  return table.concat(out)
end

local function tag(v)
  if type(v) ~= 'table' then return v end
  if v[1] ~= nil then -- a non-empty array (object keys are always strings)
    for i = 1, #v do v[i] = tag(v[i]) end
    return setmetatable(v, ARRAY)
  end
  local first = next(v)
  if first == EMPTY_ARRAY_KEY and next(v, first) == nil then return setmetatable({}, ARRAY) end
  for k, x in pairs(v) do v[k] = tag(x) end
  return v
end

local function decode(s) return tag(cjson.decode(mark_empty_arrays(s))) end

local function json_equal(a, b)
  local ta = type(a)
  if ta ~= type(b) then return false end
  if ta ~= 'table' then return a == b end
  local aa = is_array(a)
  if aa ~= is_array(b) then return false end
  if aa then
    if #a ~= #b then return false end
    for i = 1, #a do
      if not json_equal(a[i], b[i]) then return false end
    end
    return true
  end
  for k, x in pairs(a) do
    local y = b[k]
    if y == nil or not json_equal(x, y) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

-- memcmp order, as ZREVRANGE ranks equal scores. A claim whose classes' heads tie compares
-- ids once per class, so this reads 8 bytes of each id per C call (string.byte with a range)
-- and compares them in Lua, instead of a call per byte. (The string library is not visible
-- while the library loads, so string.byte is looked up per call.)
local function bytes_greater(a, b)
  if a == b then return false end
  local byte = string.byte
  local la, lb = #a, #b
  local n = la
  if lb < n then n = lb end
  local i = 1
  while i + 7 <= n do
    local a1, a2, a3, a4, a5, a6, a7, a8 = byte(a, i, i + 7)
    local b1, b2, b3, b4, b5, b6, b7, b8 = byte(b, i, i + 7)
    if a1 ~= b1 then return a1 > b1 end
    if a2 ~= b2 then return a2 > b2 end
    if a3 ~= b3 then return a3 > b3 end
    if a4 ~= b4 then return a4 > b4 end
    if a5 ~= b5 then return a5 > b5 end
    if a6 ~= b6 then return a6 > b6 end
    if a7 ~= b7 then return a7 > b7 end
    if a8 ~= b8 then return a8 > b8 end
    i = i + 8
  end
  while i <= n do
    local x, y = byte(a, i), byte(b, i)
    if x ~= y then return x > y end
    i = i + 1
  end
  return la > lb
end

local function bytes_less(a, b) return bytes_greater(b, a) end

---------------------------------------------------------------------------------------------
-- matching.md section 3

local HARDWARE_LIMITS = { gpu_memory_gb = true, cpu_cores = true, ram_gb = true }
local NOT_CUSTOM = { service_type = true, hardware = true, customer_isolation = true, models = true }

local function member(v, key)
  if is_object(v) then return v[key] end
  return nil
end

local function contains(list, item)
  for i = 1, #list do
    if json_equal(list[i], item) then return true end
  end
  return false
end

local function contains_string(list, s)
  if not is_array(list) then return false end
  for i = 1, #list do
    if list[i] == s then return true end
  end
  return false
end

-- Dotted path: split on '.', empty segments dropped, object keys only.
local function find_path(root, dotted)
  local cur = root
  for segment in string.gmatch(dotted, '[^.]+') do
    cur = member(cur, segment)
    if cur == nil then return nil end
  end
  return cur
end

local function compare(w, required)
  if w == nil then return false end
  if is_array(required) then
    if not is_array(w) then return false end
    for i = 1, #required do
      if not contains(w, required[i]) then return false end
    end
    return true
  end
  if is_array(w) and not is_object(required) then return contains(w, required) end
  if type(required) == 'number' then return type(w) == 'number' and w >= required end
  return json_equal(w, required)
end

local function check_value(w, required)
  if is_object(required) then
    if not is_object(w) then return false end
    for k, sub in pairs(required) do
      if not check_value(w[k], sub) then return false end
    end
    return true
  end
  return compare(w, required)
end

local function check(worker, key, required) return check_value(find_path(worker, key), required) end

-- Every rule but R1 and R2, for a job's decoded requirements.
local function requirements_pass(req, worker, service_required, customer_id)
  if not is_object(req) then req = {} end
  local positive, whole = req.positive_requirements, false
  if positive == nil then positive, whole = req, true end
  if not is_object(positive) then positive = {} end

  -- R3a hardware
  local hw = positive.hardware
  if is_object(hw) then
    local worker_hw = member(worker, 'hardware')
    for k, need in pairs(hw) do
      if HARDWARE_LIMITS[k] and need ~= 'all' then
        local have = member(worker_hw, k)
        if not (type(need) == 'number' and type(have) == 'number' and have >= need) then return false end
      end
    end
  end

  -- R3b strict isolation
  if positive.customer_isolation == 'strict' then
    if member(member(worker, 'customer_access'), 'isolation') ~= 'strict' then return false end
  end

  -- R3c customer lists, whenever the job has a customer (D4)
  if customer_id ~= '' then
    local access = member(worker, 'customer_access')
    local allowed = member(access, 'allowed_customers')
    if is_array(allowed) and not contains_string(allowed, customer_id) then return false end
    if contains_string(member(access, 'denied_customers'), customer_id) then return false end
  end

  -- R3d models of this service_required
  local models = positive.models
  if is_array(models) then
    local have = member(member(worker, 'models'), service_required)
    for i = 1, #models do
      if not (is_array(have) and contains(have, models[i])) then return false end
    end
  end

  -- R3e custom capabilities (D2: negative_requirements is never a positive key)
  for k, v in pairs(positive) do
    if not NOT_CUSTOM[k] and not (whole and k == 'negative_requirements') then
      if not check(worker, k, v) then return false end
    end
  end

  -- R4 negative requirements
  local negative = req.negative_requirements
  if is_object(negative) then
    for k, v in pairs(negative) do
      if k == 'hardware' then
        local worker_hw = member(worker, 'hardware')
        if is_object(worker_hw) and is_object(v) then
          for sk, sv in pairs(v) do
            local have = worker_hw[sk]
            if have ~= nil and have ~= cjson.null and have ~= false and compare(have, sv) then return false end
          end
        end
      elseif check(worker, k, v) then
        return false
      end
    end
  end
  return true
end

-- Memo of class verdicts. A class's requirements, customer and workflow never change (its id
-- is the SHA-1 of them), and a worker is its capabilities JSON text, so "does this worker pass
-- this class" is a pure function of (capabilities text, class id): the answers are kept in the
-- library's Lua state (gone on FUNCTION LOAD or restart, never replicated: Redis 7 replicates
-- effects), bounded by clearing it when it grows past MEMO_LIMIT entries.
local MEMO_LIMIT = 200000
local memo, memo_size = {}, 0

local function worker_memo(caps_json)
  local m = memo[caps_json]
  if not m then
    if memo_size >= MEMO_LIMIT then memo, memo_size = {}, 0 end
    m = { caps = decode(caps_json), verdicts = {}, keys = {} }
    memo[caps_json] = m
    memo_size = memo_size + 1
  end
  return m
end

-- R1 and the requirements of class `class_id`, whose head job is `head`.
local function class_passes(m, class_id, head, service_required, workflow_id)
  local v = m.verdicts[class_id]
  if v == nil then
    local f = redis.call('HMGET', job_key(head), 'requirements', 'customer_id', 'workflow_id')
    if workflow_id ~= '' and (f[3] or '') ~= workflow_id then
      v = false
    else
      local ok, req = pcall(decode, f[1] or '{}')
      v = ok and requirements_pass(req, m.caps, service_required, f[2] or '')
    end
    m.verdicts[class_id] = v
    memo_size = memo_size + 1
  end
  return v
end

-- The score and id of the head job of each class in `classes`, from
-- jobrouter:head_scores:<service_required> and jobrouter:head_ids:<service_required>, without
-- Redis formatting a double (as ZREVRANGE WITHSCORES would). A class missing there (a database
-- written by library version 1) is read from its sorted set. Ids are read, in one call, only
-- for the classes a claim could take: not known to fail (`verdicts`) and not below
-- `best_score`, the best match so far; the first class below it ends the list, so the first
-- result is how many of `classes` were looked at. The last result holds the score texts read
-- from head_scores (false for a class read from its sorted set), so that a claim can tell
-- whether its class's stored head score changes.
local function head_of_class(class_id)
  local head = redis.call('ZREVRANGE', class_key(class_id), '0', '0', 'WITHSCORES')
  return tonumber(head[2]), head[1]
end

local function heads_of(service_required, classes, verdicts, best_score)
  local k = index_keys(service_required)
  local texts = redis.call('HMGET', k.scores, unpack(classes))
  local n, scores, ids, wanted, at = #classes, {}, {}, {}, {}
  for i = 1, n do
    local text, score = texts[i], nil
    if text then
      score = cached_number(text)
    else
      score, ids[i] = head_of_class(classes[i])
      texts[i] = false
    end
    scores[i] = score
    if best_score and score < best_score then
      n = i
      break
    end
    if text and verdicts[classes[i]] ~= false then
      wanted[#wanted + 1] = classes[i]
      at[#at + 1] = i
    end
  end
  if #wanted > 0 then
    local got = redis.call('HMGET', k.ids, unpack(wanted))
    for j = 1, #wanted do
      local i = at[j]
      if got[j] then
        ids[i] = got[j]
      else
        scores[i], ids[i] = head_of_class(classes[i])
        texts[i] = false
      end
    end
  end
  return n, scores, ids, texts
end

-- The best pending job for a worker (its memo entry) offering `keys` (service_required
-- values), or nil. Classes come by their heads' scores, HEAD_BATCH at a time, with their heads
-- read in one call. The fourth result is the best job's score text as stored in
-- jobrouter:head_scores (false when its class was read from its sorted set).
local HEAD_BATCH = 16
local HEAD_BATCH_TEXT = '16'
local function find_best(keys, m, workflow_id)
  local best_id, best_score, best_class, best_key, best_text
  local verdicts = m.verdicts
  for _, key in ipairs(keys) do
    if type(key) == 'string' then
      local heads, offset, done = index_keys(key).heads, 0, false
      -- Once there is a match, only classes whose head scores at least as high can beat it.
      local floor
      if best_score then floor = best_text or string.format('%.17g', best_score) end
      while not done do
        local classes
        if floor then
          classes = redis.call('ZREVRANGEBYSCORE', heads, '+inf', floor, 'LIMIT', tostring(offset), HEAD_BATCH_TEXT)
        else
          classes = redis.call('ZREVRANGE', heads, tostring(offset), tostring(offset + HEAD_BATCH - 1))
        end
        if #classes == 0 then break end
        local n, scores, ids, texts = heads_of(key, classes, verdicts, best_score)
        for i = 1, n do
          local class_id, score, head = classes[i], scores[i], ids[i]
          -- Once a class is below the best, all after it are.
          if best_score and score < best_score then done = true break end
          -- A class this worker is known to fail costs nothing more.
          if head and verdicts[class_id] ~= false
              and (not best_score or score > best_score or bytes_greater(head, best_id))
              and class_passes(m, class_id, head, key, workflow_id) then
            best_id, best_score, best_class, best_key, best_text = head, score, class_id, key, texts[i]
          end
        end
        if #classes < HEAD_BATCH then break end
        offset = offset + HEAD_BATCH
      end
    end
  end
  return best_id, best_class, best_key, best_text
end

---------------------------------------------------------------------------------------------
-- The pending index

-- jobrouter:heads:<service_required> scores each class by its head job;
-- jobrouter:head_scores:<service_required> and jobrouter:head_ids:<service_required> hold that
-- job's score (the text it was submitted with, read from its hash) and id.
-- `stored_score`, when given, is the class's score text now in head_scores (a claim knows it):
-- when the new head has the same score, the heads sorted set and head_scores already say so
-- and only head_ids is written.
local function refresh_head(class_id, service_required, stored_score)
  local k = index_keys(service_required)
  local head = redis.call('ZREVRANGE', class_key(class_id), '0', '0')[1]
  if not head then
    redis.call('ZREM', k.heads, class_id)
    redis.call('HDEL', k.scores, class_id)
    redis.call('HDEL', k.ids, class_id)
  else
    local score = redis.call('HGET', job_key(head), 'score')
    if score ~= stored_score then
      redis.call('ZADD', k.heads, score, class_id)
      redis.call('HSET', k.scores, class_id, score)
    end
    redis.call('HSET', k.ids, class_id, head)
  end
end

local function index_insert(id)
  local f = redis.call('HMGET', job_key(id), 'score', 'class', 'service_required')
  redis.call('ZADD', PENDING, f[1], id)
  local class = class_key(f[2])
  redis.call('ZADD', class, f[1], id)
  -- Unless the job is its class's new head, the head keys already hold the right head.
  if redis.call('ZREVRANGE', class, '0', '0')[1] ~= id then return end
  local k = index_keys(f[3])
  redis.call('ZADD', k.heads, f[1], f[2])
  redis.call('HSET', k.scores, f[2], f[1])
  redis.call('HSET', k.ids, f[2], id)
end

-- `class_id` and `service_required` may be given when the caller knows them (a claim does), and
-- then `stored_score`: see refresh_head.
local function index_erase(id, class_id, service_required, stored_score)
  if not class_id then
    local f = redis.call('HMGET', job_key(id), 'class', 'service_required')
    class_id, service_required = f[1], f[2]
  end
  redis.call('ZREM', PENDING, id)
  redis.call('ZREM', class_key(class_id), id)
  refresh_head(class_id, service_required, stored_score)
end

---------------------------------------------------------------------------------------------
-- Clock, configuration, lifecycle

local function load_config()
  local m = redis.call('HMGET', META, 'now', 'lease_ms', 'retry_backoff_ms', 'retry_backoff_max_ms', 'strategy')
  return {
    now = tonumber(m[1]) or 0,
    lease = m[2] and cached_number(m[2]) or 60000,
    base = m[3] and cached_number(m[3]) or 1000,
    cap = m[4] and cached_number(m[4]) or 60000,
    strategy = m[5] or 'job-type',
  }
end

local function backoff(cfg, attempts)
  if cfg.base == 0 then return 0 end
  local shift = math.max(attempts - 1, 0)
  if shift >= 62 or cfg.base > math.floor(cfg.cap / 2 ^ shift) then return cfg.cap end
  return math.min(cfg.base * 2 ^ shift, cfg.cap)
end

local function is_running(status) return status == 'assigned' or status == 'in_progress' end
local function is_final(status) return status == 'completed' or status == 'failed' or status == 'cancelled' end

-- The job leaves its worker: no longer active there, no lease timer.
local function release_from_worker(id, holder)
  redis.call('ZREM', TIMERS, id)
  if not holder or holder == '' then return end
  redis.call('HDEL', active_key(holder), id)
  if redis.call('EXISTS', worker_key(holder)) == 1 and redis.call('HLEN', active_key(holder)) == 0 then
    redis.call('HSET', worker_key(holder), 'status', 'idle', 'current_job_id', '')
  end
end

-- A failed attempt at `failure_time`: retrying (back-off) while attempts remain, else failed.
local function record_failure(cfg, id, failure_time, retryable)
  local key = job_key(id)
  local f = redis.call('HMGET', key, 'worker_id', 'attempts', 'max_retries')
  local holder = f[1] or ''
  release_from_worker(id, holder)
  local attempts = tonumber(f[2]) or 0
  local max_retries = tonumber(f[3]) or 3
  if retryable and attempts < max_retries then
    local at = failure_time + backoff(cfg, attempts)
    redis.call('HSET', key, 'status', 'retrying', 'retry_at', num(at), 'worker_id', '', 'last_failed_worker', holder)
    redis.call('ZADD', TIMERS, num(at), id)
  else
    redis.call('HSET', key, 'status', 'failed', 'failed_at', num(cfg.now), 'worker_id', holder, 'last_failed_worker', holder)
  end
end

local function apply_due(cfg)
  while true do
    local due = redis.call('ZRANGEBYSCORE', TIMERS, '-inf', cfg.now_text or num(cfg.now), 'LIMIT', '0', '1')
    if #due == 0 then return end
    local id = due[1]
    redis.call('ZREM', TIMERS, id)
    local key = job_key(id)
    local f = redis.call('HMGET', key, 'status', 'lease_deadline')
    if is_running(f[1]) then
      -- An expired lease is a failed attempt whose failure time is the deadline.
      redis.call('HSET', key, 'error', '"lease expired"')
      record_failure(cfg, id, tonumber(f[2]), true)
    elseif f[1] == 'retrying' then
      redis.call('HSET', key, 'status', 'pending')
      index_insert(id)
    end
  end
end

-- Loads the configuration, moves the clock to max(stored, now) and applies what is due.
local function begin(now_arg)
  local cfg = load_config()
  local t = tonumber(now_arg)
  if not t then error('jobrouter: now must be a number of ms, got ' .. tostring(now_arg)) end
  if t > cfg.now then
    cfg.now = t
    cfg.now_text = num(t)
    redis.call('HSET', META, 'now', cfg.now_text)
  else
    cfg.now_text = num(cfg.now)
  end
  apply_due(cfg)
  return cfg
end

local function renew_lease(cfg, id)
  local deadline = cfg.now + cfg.lease
  redis.call('HSET', job_key(id), 'lease_deadline', num(deadline))
  -- The lease is seen expired by the first event *after* the deadline.
  redis.call('ZADD', TIMERS, num(deadline + 1), id)
  return deadline
end

local function hash_to_table(flat)
  local t = {}
  for i = 1, #flat, 2 do t[flat[i]] = flat[i + 1] end
  return t
end

-- Sets job[field] = value and, when that changes it, adds the pair to `changed` (HSET arguments).
local function set_field(job, changed, field, value)
  if job[field] ~= value then
    job[field] = value
    changed[#changed + 1] = field
    changed[#changed + 1] = value
  end
end

-- The pending job `id` goes to worker `worker_id` with a fresh lease. A claim passes the class
-- and service_required it found the job under, and the class's stored head score (find_best).
local function assign(cfg, id, worker_id, class_id, service_required, stored_score)
  local key = job_key(id)
  -- The job as it will be once assigned, read once: written back and copied to the worker.
  local job = hash_to_table(redis.call('HGETALL', key))
  index_erase(id, class_id, service_required, stored_score)
  local attempts = (tonumber(job.attempts) or 0) + 1
  local now = cfg.now_text or num(cfg.now)
  -- Only the fields that change are written (a first attempt's retry_count and progress are
  -- already 0). started_at is '' until the first progress of this attempt.
  local changed = {}
  set_field(job, changed, 'status', 'assigned')
  set_field(job, changed, 'attempts', tostring(attempts))
  set_field(job, changed, 'retry_count', tostring(attempts - 1))
  set_field(job, changed, 'worker_id', worker_id)
  set_field(job, changed, 'assigned_at', now)
  set_field(job, changed, 'started_at', '')
  set_field(job, changed, 'progress', '0')
  set_field(job, changed, 'lease_deadline', num(cfg.now + cfg.lease))
  redis.call('HSET', key, unpack(changed))
  redis.call('ZADD', TIMERS, num(cfg.now + cfg.lease + 1), id)
  -- As EMP: the worker's active jobs hold the job as JSON, and the worker is busy with it.
  redis.call('HSET', active_key(worker_id), id, cjson.encode(job))
  redis.call('HSET', worker_key(worker_id), 'status', 'busy', 'current_job_id', id)
end

local function job_status(id) return redis.call('HGET', job_key(id), 'status') end

---------------------------------------------------------------------------------------------
-- Functions

local function jobrouter_version() return LIBRARY_VERSION end

-- configure 0 lease_ms retry_backoff_ms retry_backoff_max_ms strategy
local function jobrouter_configure(_, args)
  redis.call('HSET', META, 'lease_ms', args[1], 'retry_backoff_ms', args[2], 'retry_backoff_max_ms', args[3],
    'strategy', args[4], 'library_version', LIBRARY_VERSION)
  return { 'ok' }
end

-- worker_types 0 name job_types_json [name job_types_json ...]: what findMatchingJob offers
-- for a worker that sends only worker_type.
local function jobrouter_set_worker_types(_, args)
  redis.call('DEL', WORKER_TYPES)
  for i = 1, #args, 2 do redis.call('HSET', WORKER_TYPES, args[i], args[i + 1]) end
  return { 'ok' }
end

-- advance 0 now
local function jobrouter_advance(_, args)
  local cfg = begin(args[1])
  return { 'ok', num(cfg.now) }
end

-- submit 0 now id score class_signature service_required field value [field value ...]
local function jobrouter_submit(_, args)
  local cfg = begin(args[1])
  local id = args[2]
  local key = job_key(id)
  if redis.call('EXISTS', key) == 1 then return { 'duplicate' } end
  local class_id = redis.sha1hex(args[4])
  redis.call('HSET', key, 'id', id, 'score', args[3], 'class', class_id, 'service_required', args[5],
    'status', 'pending', 'attempts', '0', 'retry_count', '0', 'progress', '0', 'created_at', num(cfg.now))
  for i = 6, #args, 2 do redis.call('HSET', key, args[i], args[i + 1]) end
  index_insert(id)
  return { 'ok' }
end

-- register 0 now worker_id capabilities_json services_json job_types_json workflow_id worker_type
local function jobrouter_register(_, args)
  begin(args[1])
  local id = args[2]
  local key = worker_key(id)
  if redis.call('SADD', WORKERS, id) == 1 then
    redis.call('HSET', key, 'status', 'idle', 'current_job_id', '')
    redis.call('INCR', WORKERS_GEN)
  else
    local old = redis.call('HMGET', key, 'capabilities', 'services', 'job_types', 'workflow_id')
    if old[1] ~= args[3] or old[2] ~= args[4] or old[3] ~= args[5] or old[4] ~= args[6] then redis.call('INCR', WORKERS_GEN) end
  end
  redis.call('HSET', key, 'worker_id', id, 'capabilities', args[3], 'services', args[4], 'job_types', args[5],
    'workflow_id', args[6], 'worker_type', args[7])
  return { 'ok' }
end

-- unregister 0 now worker_id
local function jobrouter_unregister(_, args)
  local cfg = begin(args[1])
  local id = args[2]
  if redis.call('SISMEMBER', WORKERS, id) == 0 then return { 'unknown_worker' } end
  local held = redis.call('HKEYS', active_key(id))
  table.sort(held, bytes_less)
  for _, job_id in ipairs(held) do
    redis.call('HSET', job_key(job_id), 'error', cjson.encode('worker ' .. id .. ' left while running it'))
    record_failure(cfg, job_id, cfg.now, true)
  end
  redis.call('SREM', WORKERS, id)
  redis.call('DEL', worker_key(id), active_key(id))
  redis.call('INCR', WORKERS_GEN)
  apply_due(cfg)
  return { 'ok' }
end

-- claim 0 now worker_id: {'ok', job_id} or {'ok'} when no pending job matches
local function jobrouter_claim(_, args)
  local cfg = begin(args[1])
  local id = args[2]
  if redis.call('SISMEMBER', WORKERS, id) == 0 then return { 'unknown_worker' } end
  local w = redis.call('HMGET', worker_key(id), 'capabilities', 'services', 'job_types', 'workflow_id')
  local m = worker_memo(w[1] or '{}')
  local keys_json = (cfg.strategy == 'service-name' and w[2] or w[3]) or '[]'
  local keys = m.keys[keys_json]
  if not keys then
    keys = cjson.decode(keys_json)
    m.keys[keys_json] = keys
    memo_size = memo_size + 1
  end
  local best, class_id, service_required, stored_score = find_best(keys, m, w[4] or '')
  if not best then return { 'ok' } end
  assign(cfg, best, id, class_id, service_required, stored_score)
  return { 'ok', best }
end

-- complete 0 now job_id result_json
local function jobrouter_complete(_, args)
  local cfg = begin(args[1])
  local id = args[2]
  local f = redis.call('HMGET', job_key(id), 'status', 'worker_id')
  local status, holder = f[1], f[2]
  if not status then return { 'unknown_job' } end
  if not is_running(status) then return { 'not_assigned', status } end
  release_from_worker(id, holder)
  redis.call('HSET', job_key(id), 'status', 'completed', 'worker_id', holder, 'completed_at', cfg.now_text,
    'progress', '100', 'result', args[3])
  return { 'ok' }
end

-- fail 0 now job_id retryable(1|0) error_json
local function jobrouter_fail(_, args)
  local cfg = begin(args[1])
  local id = args[2]
  local status = job_status(id)
  if not status then return { 'unknown_job' } end
  if not is_running(status) then return { 'not_assigned', status } end
  redis.call('HSET', job_key(id), 'error', args[4])
  record_failure(cfg, id, cfg.now, args[3] == '1')
  apply_due(cfg) -- a zero back-off makes the job pending at once
  return { 'ok' }
end

-- cancel 0 now job_id
local function jobrouter_cancel(_, args)
  local cfg = begin(args[1])
  local id = args[2]
  local status = job_status(id)
  if not status then return { 'unknown_job' } end
  if is_final(status) then return { 'already_final', status } end
  if status == 'pending' then index_erase(id) end
  release_from_worker(id, redis.call('HGET', job_key(id), 'worker_id'))
  redis.call('HSET', job_key(id), 'status', 'cancelled', 'worker_id', '', 'cancelled_at', num(cfg.now))
  return { 'ok' }
end

-- heartbeat 0 now worker_id: renews the leases of all the worker's jobs
local function jobrouter_heartbeat(_, args)
  local cfg = begin(args[1])
  local id = args[2]
  if redis.call('SISMEMBER', WORKERS, id) == 0 then return { 'unknown_worker' } end
  for _, job_id in ipairs(redis.call('HKEYS', active_key(id))) do renew_lease(cfg, job_id) end
  return { 'ok' }
end

-- progress 0 now job_id percent: the job is in progress; its lease is renewed
local function jobrouter_progress(_, args)
  local cfg = begin(args[1])
  local id = args[2]
  local status = job_status(id)
  if not status then return { 'unknown_job' } end
  if not is_running(status) then return { 'not_assigned', status } end
  local key = job_key(id)
  local percent = math.max(0, math.min(100, tonumber(args[3]) or 0))
  redis.call('HSET', key, 'status', 'in_progress', 'progress', num(percent))
  local started = redis.call('HGET', key, 'started_at')
  if not started or started == '' then redis.call('HSET', key, 'started_at', num(cfg.now)) end
  renew_lease(cfg, id)
  return { 'ok' }
end

-- release 0 now job_id: back to pending without counting the attempt (graceful shutdown)
local function jobrouter_release(_, args)
  local cfg = begin(args[1])
  local id = args[2]
  local status = job_status(id)
  if not status then return { 'unknown_job' } end
  if not is_running(status) then return { 'not_assigned', status } end
  local key = job_key(id)
  release_from_worker(id, redis.call('HGET', key, 'worker_id'))
  redis.call('HSET', key, 'status', 'pending', 'worker_id', '')
  redis.call('HINCRBY', key, 'attempts', -1)
  index_insert(id)
  return { 'ok' }
end

-- top_pending 0 n: the first n pending jobs in rank order, each as
-- id, service_required, customer_id, workflow_id, requirements (explain)
local function jobrouter_top_pending(_, args)
  local out = {}
  for _, id in ipairs(redis.call('ZREVRANGE', PENDING, 0, (tonumber(args[1]) or 10) - 1)) do
    local f = redis.call('HMGET', job_key(id), 'service_required', 'customer_id', 'workflow_id', 'requirements')
    out[#out + 1] = id
    for i = 1, 4 do out[#out + 1] = f[i] or '' end
  end
  return out
end

-- The keys an EMP worker offers under the job-type strategy (matching.md section 2).
local function emp_offered_keys(caps)
  local list = caps.job_service_required_map
  if list == nil then list = caps.job_types end
  if list == nil and type(caps.worker_type) == 'string' then
    local known = redis.call('HGET', WORKER_TYPES, caps.worker_type)
    if known then list = decode(known) end
  end
  if not is_array(list) then return {} end
  return list
end

-- findMatchingJob 0 capabilities_json max_scan: EMP's calling convention and reply
-- ('{"jobId":...,"job":{...hash fields...}}', nil when nothing matches). max_scan is accepted
-- and ignored (D1); the strategy is always job-type; the job gets the normal lease, timed by
-- the server's clock.
local function find_matching_job(_, args)
  local ok, m = pcall(worker_memo, args[1] or '')
  local caps = ok and m.caps
  if not ok or not is_object(caps) then
    return redis.error_reply('findMatchingJob: capabilities (argument 1) must be a JSON object')
  end
  if type(caps.worker_id) ~= 'string' or caps.worker_id == '' then
    return redis.error_reply('findMatchingJob: capabilities.worker_id must be a non-empty string')
  end
  local t = redis.call('TIME')
  local cfg = begin(tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
  local workflow_id = caps.workflow_id
  if type(workflow_id) ~= 'string' then workflow_id = '' end
  local best, class_id, service_required, stored_score = find_best(emp_offered_keys(caps), m, workflow_id)
  if not best then return nil end
  assign(cfg, best, caps.worker_id, class_id, service_required, stored_score)
  return cjson.encode({ jobId = best, job = hash_to_table(redis.call('HGETALL', job_key(best))) })
end

-- emp_claim 0 now capabilities_json max_scan: EMP's algorithm over the same keys, for the
-- bench: the first job among the top max_scan of jobs:pending that the worker matches (job-type
-- strategy) is claimed; {'ok', job_id} or {'ok'}.
local function jobrouter_emp_claim(_, args)
  local cfg = begin(args[1])
  local caps = decode(args[2])
  local max_scan = tonumber(args[3]) or 100
  local keys = {}
  for _, k in ipairs(emp_offered_keys(caps)) do keys[k] = true end
  local workflow_id = type(caps.workflow_id) == 'string' and caps.workflow_id or ''
  for _, id in ipairs(redis.call('ZREVRANGE', PENDING, 0, max_scan - 1)) do
    local f = redis.call('HMGET', job_key(id), 'service_required', 'requirements', 'customer_id', 'workflow_id')
    if f[1] and keys[f[1]] and not (workflow_id ~= '' and (f[4] or '') ~= workflow_id) then
      local decoded, req = pcall(decode, f[2] or '{}')
      if decoded and requirements_pass(req, caps, f[1], f[3] or '') then
        assign(cfg, id, caps.worker_id)
        return { 'ok', id }
      end
    end
  end
  return { 'ok' }
end

---------------------------------------------------------------------------------------------
-- serve (added in library version 3; additive: the functions above keep their names,
-- arguments and replies)
--
-- What `jobrouter serve --store redis://...` needs beyond the scheduler functions above, each
-- serve function wrapping one of them: lease tokens (the job hash's `lease_token`, written by
-- the claim, checked by progress, complete and fail), listing order (`seq` in the job hash,
-- jobrouter:seq, jobrouter:jobs), the submitted body (`body`, for idempotent resubmission),
-- retention (jobrouter:finished), liveness of external workers (jobrouter:worker_seen), the
-- cancellations an external worker learns at its heartbeat (jobrouter:cancelled:<worker>), the
-- worker's kind and owning process (`serve_kind`, `serve_origin` in worker:<id>), and events.
--
-- Events: every state change a serve function makes, its own and the timed effects that its
-- `begin` applied (found by reading the statuses of the due jobs before and after), is
-- returned to the caller and published as one message on the channel that jobrouter:meta's
-- `events_channel` names (serve writes jobrouter:events:<db> there: channels are server-wide,
-- databases are not; jobrouter:events when unset)
-- {"origin":"<process id>","events":[{"event":"assigned","job_id":...,"worker_id":...,
-- "service_required":...,"progress":0,"message":...,"at":<ms>}, ...]}. Publishing here, inside
-- the call, makes the message part of the atomic step: no change goes unannounced because a
-- process died between its call and a PUBLISH of its own.
--
-- Calling convention: FCALL jobrouter_serve_<op> 0 now origin args...; replies are arrays:
-- status, the events as JSON text ('[]' when none), then the operation's values.

local SERVE_SEQ = 'jobrouter:seq'
local SERVE_JOBS = 'jobrouter:jobs'
local SERVE_FINISHED = 'jobrouter:finished'
local SERVE_SEEN = 'jobrouter:worker_seen'
local SERVE_EVENTS = 'jobrouter:events' -- unless jobrouter:meta's events_channel names another
local SERVE_BATCH = 1000 -- at most this many jobs forgotten, or workers removed, per tick
local function cancelled_key(worker_id) return 'jobrouter:cancelled:' .. worker_id end

-- A stored error (JSON text) as the events word it: a string, or an object's message.
local function error_message(text)
  if not text or text == '' then return nil end
  local ok, v = pcall(cjson.decode, text)
  if not ok then return text end
  if type(v) == 'string' then return v end
  if v == cjson.null then return nil end
  if type(v) == 'table' and type(v.message) == 'string' then return v.message end
  return text
end

local function serve_event(ctx, kind, job_id, worker_id, message)
  local e = { event = kind, at = ctx.now }
  if job_id and job_id ~= '' then
    e.job_id = job_id
    local f = redis.call('HMGET', job_key(job_id), 'service_required', 'progress', 'error')
    e.service_required = f[1] or nil
    e.progress = tonumber(f[2]) or 0
    if kind == 'failed' or kind == 'retried' then e.message = error_message(f[3]) end
  end
  if worker_id and worker_id ~= '' then e.worker_id = worker_id end
  if message and message ~= '' then e.message = message end
  ctx.events[#ctx.events + 1] = e
end

local function serve_snapshot(ids)
  local before = {}
  for _, id in ipairs(ids) do
    local f = redis.call('HMGET', job_key(id), 'status', 'worker_id')
    before[#before + 1] = { id = id, status = f[1], worker = f[2] }
  end
  return before
end

local function serve_finished(ctx, id) redis.call('ZADD', SERVE_FINISHED, num(ctx.now), id) end

-- The events of what became of the jobs in `before` (a snapshot) since it was taken.
local function serve_observe(ctx, before)
  for _, b in ipairs(before) do
    local now_status = redis.call('HGET', job_key(b.id), 'status')
    if now_status and now_status ~= b.status then
      if is_running(b.status) then
        if now_status == 'failed' then
          serve_event(ctx, 'failed', b.id, b.worker)
          serve_finished(ctx, b.id)
        elseif now_status == 'retrying' or now_status == 'pending' then
          serve_event(ctx, 'retried', b.id, b.worker)
          if now_status == 'pending' then serve_event(ctx, 'requeued', b.id) end
        end
      elseif b.status == 'retrying' and now_status == 'pending' then
        serve_event(ctx, 'requeued', b.id)
      end
    end
  end
end

-- begin() with the events of the timed effects it applies.
local function serve_begin(args)
  local t = tonumber(args[1])
  if not t then error('jobrouter: now must be a number of ms, got ' .. tostring(args[1])) end
  local stored = tonumber(redis.call('HGET', META, 'now')) or 0
  local before = serve_snapshot(redis.call('ZRANGEBYSCORE', TIMERS, '-inf', num(math.max(stored, t))))
  local cfg = begin(args[1])
  local ctx = { now = cfg.now, origin = args[2] or '', events = {} }
  serve_observe(ctx, before)
  return ctx
end

local function serve_reply(ctx, status, ...)
  local text = '[]'
  if #ctx.events > 0 then
    text = cjson.encode(ctx.events)
    local channel = redis.call('HGET', META, 'events_channel') or SERVE_EVENTS
    redis.call('PUBLISH', channel, '{"origin":' .. cjson.encode(ctx.origin) .. ',"events":' .. text .. '}')
  end
  return { status, text, ... }
end

-- nil and the holder when `token` is the running job's lease, else the refusal.
local function serve_check_lease(id, token)
  local f = redis.call('HMGET', job_key(id), 'status', 'lease_token', 'worker_id')
  if not f[1] then return { 'unknown_job', '' } end
  if not is_running(f[1]) or not f[2] or f[2] == '' then return { 'stale', f[1] } end
  if f[2] ~= token then return { 'wrong_token', f[1] } end
  return nil, f[3] or ''
end

local function serve_seen(ctx, worker_id)
  if worker_id and worker_id ~= '' then redis.call('ZADD', SERVE_SEEN, 'XX', num(ctx.now), worker_id) end
end

-- serve_submit 0 now origin max_waiting max_waiting_of_type body id score class_signature
-- service_required (field value)...: jobrouter_submit's arguments from `id` on.
-- {'ok', events, seq, workers_gen} | {'duplicate', events, stored body, status, workers_gen} |
-- {'too_many_pending', events, 'all'|'type', n}. workers_gen (jobrouter:workers_gen) tells serve
-- whether its copy of the workers' capabilities still holds, to warn about a job nobody can take.
local function jobrouter_serve_submit(_, args)
  local ctx = serve_begin(args)
  local id, service_required = args[6], args[9]
  local key = job_key(id)
  if redis.call('EXISTS', key) == 1 then
    local f = redis.call('HMGET', key, 'body', 'status')
    return serve_reply(ctx, 'duplicate', f[1] or '', f[2] or '', redis.call('GET', WORKERS_GEN) or '0')
  end
  local waiting = redis.call('ZCARD', PENDING)
  if waiting >= tonumber(args[3]) then return serve_reply(ctx, 'too_many_pending', 'all', tostring(waiting)) end
  local of_type = 0
  for _, class_id in ipairs(redis.call('ZRANGE', heads_key(service_required), 0, -1)) do
    of_type = of_type + redis.call('ZCARD', class_key(class_id))
  end
  if of_type >= tonumber(args[4]) then return serve_reply(ctx, 'too_many_pending', 'type', tostring(of_type)) end
  local inner = { args[1] }
  for i = 6, #args do inner[#inner + 1] = args[i] end
  local r = jobrouter_submit(nil, inner)
  if r[1] ~= 'ok' then return serve_reply(ctx, r[1]) end
  local seq = redis.call('INCR', SERVE_SEQ)
  redis.call('HSET', key, 'body', args[5], 'seq', seq)
  redis.call('ZADD', SERVE_JOBS, seq, id)
  serve_event(ctx, 'submitted', id)
  return serve_reply(ctx, 'ok', tostring(seq), redis.call('GET', WORKERS_GEN) or '0')
end

-- serve_claim 0 now origin worker_id lease_token external_only(1|0):
-- {'ok', events[, job_id, job hash as a flat array]} | {'unknown_worker'|'in_process', events}
local function jobrouter_serve_claim(_, args)
  local ctx = serve_begin(args)
  local worker_id = args[3]
  if redis.call('SISMEMBER', WORKERS, worker_id) == 0 then return serve_reply(ctx, 'unknown_worker') end
  if args[5] == '1' and redis.call('HGET', worker_key(worker_id), 'serve_kind') == 'in-process' then
    return serve_reply(ctx, 'in_process')
  end
  serve_seen(ctx, worker_id)
  local r = jobrouter_claim(nil, { args[1], worker_id })
  if r[1] ~= 'ok' then return serve_reply(ctx, r[1]) end
  if not r[2] then return serve_reply(ctx, 'ok') end
  redis.call('HSET', job_key(r[2]), 'lease_token', args[4])
  serve_event(ctx, 'assigned', r[2], worker_id)
  return serve_reply(ctx, 'ok', r[2], redis.call('HGETALL', job_key(r[2])))
end

local function serve_unregister_worker(ctx, id)
  local before = serve_snapshot(redis.call('HKEYS', active_key(id)))
  local r = jobrouter_unregister(nil, { num(ctx.now), id })
  if r[1] ~= 'ok' then return r[1] end
  serve_observe(ctx, before)
  redis.call('ZREM', SERVE_SEEN, id)
  redis.call('DEL', cancelled_key(id))
  serve_event(ctx, 'worker_left', nil, id)
  return 'ok'
end

-- serve_register 0 now origin worker_id capabilities services job_types workflow_id worker_type
-- kind(in-process|external) fresh(1|0): {'ok'|'in_process', events}. A fresh in-process
-- worker replaces a record of the same id left by a process that is gone: the jobs that record
-- held count a failed attempt first (fresh 0: the same process re-registers after a reconnect).
local function jobrouter_serve_register(_, args)
  local ctx = serve_begin(args)
  local id, kind = args[3], args[9]
  local existed = redis.call('SISMEMBER', WORKERS, id) == 1
  if existed then
    local old_kind = redis.call('HGET', worker_key(id), 'serve_kind')
    if kind == 'external' and old_kind == 'in-process' then return serve_reply(ctx, 'in_process') end
    if kind == 'in-process' and args[10] == '1' then
      serve_unregister_worker(ctx, id)
      existed = false
    end
  end
  local r = jobrouter_register(nil, { args[1], id, args[4], args[5], args[6], args[7], args[8] })
  if r[1] ~= 'ok' then return serve_reply(ctx, r[1]) end
  redis.call('HSET', worker_key(id), 'serve_kind', kind, 'serve_origin', ctx.origin)
  if kind == 'external' then redis.call('ZADD', SERVE_SEEN, num(ctx.now), id) else redis.call('ZREM', SERVE_SEEN, id) end
  if not existed then serve_event(ctx, 'worker_joined', nil, id) end
  return serve_reply(ctx, 'ok')
end

-- serve_unregister 0 now origin worker_id external_only(1|0): {'ok'|'unknown_worker'|'in_process', events}
local function jobrouter_serve_unregister(_, args)
  local ctx = serve_begin(args)
  local id = args[3]
  if redis.call('SISMEMBER', WORKERS, id) == 0 then return serve_reply(ctx, 'unknown_worker') end
  if args[4] == '1' and redis.call('HGET', worker_key(id), 'serve_kind') == 'in-process' then
    return serve_reply(ctx, 'in_process')
  end
  return serve_reply(ctx, serve_unregister_worker(ctx, id))
end

-- serve_heartbeat 0 now origin worker_id external_only(1|0) [listed(1) job_id...]:
-- Without `listed`: {'ok', events, cancelled job ids...}. With it (version 5; the job ids are
-- the jobs the worker says it works on): each job the worker holds that is not listed and was
-- assigned strictly before the worker's previous heartbeat (worker:<id> `heartbeat_at`) is
-- handed back first, as jobrouter_release does (pending, the attempt not counted, its
-- lease_token cleared: later reports are stale), with a `requeued` event naming the worker;
-- reply {'ok', events, #cancelled, cancelled..., #unknown, unknown..., handed back...}, where
-- unknown are listed ids the worker does not hold. Either way the remaining leases are renewed
-- and `heartbeat_at` becomes now. | {'unknown_worker'|'in_process', events}
local function jobrouter_serve_heartbeat(_, args)
  local ctx = serve_begin(args)
  local id = args[3]
  if redis.call('SISMEMBER', WORKERS, id) == 0 then return serve_reply(ctx, 'unknown_worker') end
  local wkey = worker_key(id)
  if args[4] == '1' and redis.call('HGET', wkey, 'serve_kind') == 'in-process' then
    return serve_reply(ctx, 'in_process')
  end
  serve_seen(ctx, id)
  local listed = args[5] == '1'
  local unknown, handed = {}, {}
  if listed then
    local previous = tonumber(redis.call('HGET', wkey, 'heartbeat_at') or '')
    local names, holds = {}, {}
    local held = redis.call('HKEYS', active_key(id))
    for _, job_id in ipairs(held) do holds[job_id] = true end
    for i = 6, #args do
      local name = args[i]
      if not names[name] then
        names[name] = true
        if not holds[name] then unknown[#unknown + 1] = name end
      end
    end
    table.sort(unknown, bytes_less)
    if previous then
      table.sort(held, bytes_less)
      for _, job_id in ipairs(held) do
        local at = tonumber(redis.call('HGET', job_key(job_id), 'assigned_at') or '')
        if not names[job_id] and at and at < previous then
          local r = jobrouter_release(nil, { args[1], job_id })
          if r[1] == 'ok' then
            redis.call('HSET', job_key(job_id), 'lease_token', '')
            serve_event(ctx, 'requeued', job_id, id, "handed back: not listed by its worker's heartbeat")
            handed[#handed + 1] = job_id
          end
        end
      end
    end
  end
  redis.call('HSET', wkey, 'heartbeat_at', num(ctx.now))
  jobrouter_heartbeat(nil, { args[1], id })
  local cancelled = redis.call('SMEMBERS', cancelled_key(id))
  table.sort(cancelled, bytes_less)
  redis.call('DEL', cancelled_key(id))
  if not listed then return serve_reply(ctx, 'ok', unpack(cancelled)) end
  -- Appended, not unpacked: Lua's stack bounds how many values unpack may return.
  local out = serve_reply(ctx, 'ok', tostring(#cancelled))
  for _, x in ipairs(cancelled) do out[#out + 1] = x end
  out[#out + 1] = tostring(#unknown)
  for _, x in ipairs(unknown) do out[#out + 1] = x end
  for _, x in ipairs(handed) do out[#out + 1] = x end
  return out
end

-- serve_renew 0 now origin worker_id...: renews the leases of these (in-process) workers' jobs
local function jobrouter_serve_renew(_, args)
  local ctx = serve_begin(args)
  for i = 3, #args do
    if redis.call('SISMEMBER', WORKERS, args[i]) == 1 then jobrouter_heartbeat(nil, { args[1], args[i] }) end
  end
  return serve_reply(ctx, 'ok')
end

-- serve_progress 0 now origin job_id lease_token percent message
-- serve_complete 0 now origin job_id lease_token result_json
-- serve_fail 0 now origin job_id lease_token retryable(1|0) error_json
-- {'ok', events, status after} | {'unknown_job'|'stale'|'wrong_token', events, status}
-- Their shared start: the call's context and, when the token is the running attempt's lease,
-- its holder (marked seen); otherwise the reply that refuses the report.
local function serve_begin_report(args)
  local ctx = serve_begin(args)
  local bad, holder = serve_check_lease(args[3], args[4])
  if bad then return ctx, nil, serve_reply(ctx, bad[1], bad[2]) end
  serve_seen(ctx, holder)
  return ctx, holder
end

local function jobrouter_serve_progress(_, args)
  local ctx, holder, refused = serve_begin_report(args)
  if refused then return refused end
  local id = args[3]
  local r = jobrouter_progress(nil, { args[1], id, args[5] })
  if r[1] ~= 'ok' then return serve_reply(ctx, r[1], r[2] or '') end
  serve_event(ctx, 'progress', id, holder, args[6])
  return serve_reply(ctx, 'ok', 'in_progress')
end

local function jobrouter_serve_complete(_, args)
  local ctx, holder, refused = serve_begin_report(args)
  if refused then return refused end
  local id = args[3]
  local r = jobrouter_complete(nil, { args[1], id, args[5] })
  if r[1] ~= 'ok' then return serve_reply(ctx, r[1], r[2] or '') end
  serve_event(ctx, 'completed', id, holder)
  serve_finished(ctx, id)
  return serve_reply(ctx, 'ok', 'completed')
end

local function jobrouter_serve_fail(_, args)
  local ctx, holder, refused = serve_begin_report(args)
  if refused then return refused end
  local id = args[3]
  local before = serve_snapshot({ id })
  local r = jobrouter_fail(nil, { args[1], id, args[5], args[6] })
  if r[1] ~= 'ok' then return serve_reply(ctx, r[1], r[2] or '') end
  serve_observe(ctx, before)
  return serve_reply(ctx, 'ok', redis.call('HGET', job_key(id), 'status') or '')
end

-- serve_cancel 0 now origin job_id: {'ok', events} | {'unknown_job'|'already_final', events, status}
local function jobrouter_serve_cancel(_, args)
  local ctx = serve_begin(args)
  local id = args[3]
  local f = redis.call('HMGET', job_key(id), 'status', 'worker_id')
  local r = jobrouter_cancel(nil, { args[1], id })
  if r[1] ~= 'ok' then return serve_reply(ctx, r[1], r[2] or '') end
  local holder = ''
  if is_running(f[1]) and f[2] then holder = f[2] end
  if holder ~= '' and redis.call('HGET', worker_key(holder), 'serve_kind') == 'external' then
    redis.call('SADD', cancelled_key(holder), id)
  end
  serve_event(ctx, 'cancelled', id, holder)
  serve_finished(ctx, id)
  return serve_reply(ctx, 'ok')
end

-- serve_release 0 now origin job_id: back to pending, the attempt not counted (shutdown)
local function jobrouter_serve_release(_, args)
  local ctx = serve_begin(args)
  local r = jobrouter_release(nil, { args[1], args[3] })
  if r[1] ~= 'ok' then return serve_reply(ctx, r[1], r[2] or '') end
  serve_event(ctx, 'requeued', args[3])
  return serve_reply(ctx, 'ok')
end

local function serve_forget(id)
  redis.call('DEL', job_key(id))
  redis.call('ZREM', SERVE_JOBS, id)
  redis.call('ZREM', SERVE_FINISHED, id)
end

-- serve_tick 0 now origin retention_ms retention_count worker_timeout_ms parked_worker_id...:
-- applies what is due; forgets finished jobs older than retention_ms or beyond the newest
-- retention_count; marks the parked workers seen, then removes external workers silent for
-- longer than worker_timeout_ms (their jobs count a failed attempt).
-- {'ok', events, removed worker ids...}
local function jobrouter_serve_tick(_, args)
  local ctx = serve_begin(args)
  local age, keep, timeout = tonumber(args[3]), tonumber(args[4]), tonumber(args[5])
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', SERVE_FINISHED, '-inf', '(' .. num(ctx.now - age), 'LIMIT', 0, SERVE_BATCH)) do
    serve_forget(id)
  end
  local over = redis.call('ZCARD', SERVE_FINISHED) - keep
  if over > 0 then
    for _, id in ipairs(redis.call('ZRANGE', SERVE_FINISHED, 0, math.min(over, SERVE_BATCH) - 1)) do serve_forget(id) end
  end
  for i = 6, #args do serve_seen(ctx, args[i]) end
  local removed = {}
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', SERVE_SEEN, '-inf', '(' .. num(ctx.now - timeout), 'LIMIT', 0, SERVE_BATCH)) do
    if redis.call('SISMEMBER', WORKERS, id) == 1 then
      serve_unregister_worker(ctx, id)
      removed[#removed + 1] = id
    else
      redis.call('ZREM', SERVE_SEEN, id)
    end
  end
  return serve_reply(ctx, 'ok', unpack(removed))
end

-- serve_list 0 status service_required limit cursor offset [class...] (read-only): newest
-- first; {total, next cursor or '', job hash as a flat array...}. Classes given: only the
-- pending or retrying jobs of these requirement classes (?unroutable=true: serve found that no
-- registered worker can take them, see jobrouter_serve_waiting_classes).
local function jobrouter_serve_list(_, args)
  local status, service = args[1], args[2]
  local limit, cursor, offset = tonumber(args[3]) or 50, tonumber(args[4]) or 0, tonumber(args[5]) or 0
  local classes = nil
  if #args > 5 then
    classes = {}
    for i = 6, #args do classes[args[i]] = true end
  end
  local out = { 0, '' }
  local total, skipped, more, last = 0, 0, false, nil
  local entries = redis.call('ZREVRANGE', SERVE_JOBS, 0, -1, 'WITHSCORES')
  for i = 1, #entries, 2 do
    local id, seq = entries[i], tonumber(entries[i + 1])
    local f
    if classes then
      f = redis.call('HMGET', job_key(id), 'status', 'service_required', 'class')
      if not ((f[1] == 'pending' or f[1] == 'retrying') and classes[f[3]]) then f[1] = nil end
    else
      f = redis.call('HMGET', job_key(id), 'status', 'service_required')
    end
    if f[1] and (status == '' or f[1] == status) and (service == '' or f[2] == service) then
      total = total + 1
      if not (cursor ~= 0 and seq >= cursor) then
        if cursor == 0 and skipped < offset then
          skipped = skipped + 1
        elseif #out - 2 < limit then
          out[#out + 1] = redis.call('HGETALL', job_key(id))
          last = seq
        else
          more = true
        end
      end
    end
  end
  out[1] = total
  if more and last then out[2] = num(last) end
  return out
end

-- serve_workers 0 (read-only): per registered worker, by id:
-- {id, worker hash as a flat array, held job ids, last seen ('' for in-process workers)}...
local function jobrouter_serve_workers(_, args)
  local ids = redis.call('SMEMBERS', WORKERS)
  table.sort(ids, bytes_less)
  local out = {}
  for _, id in ipairs(ids) do
    local held = redis.call('HKEYS', active_key(id))
    table.sort(held, bytes_less)
    out[#out + 1] = { id, redis.call('HGETALL', worker_key(id)), held, redis.call('ZSCORE', SERVE_SEEN, id) or '' }
  end
  return out
end

-- serve_gauges 0 service_required... (read-only): {jobs, pending, then per given
-- service_required: pending, then per service_required with running jobs: name, running}
local function jobrouter_serve_gauges(_, args)
  local out = { redis.call('ZCARD', SERVE_JOBS), redis.call('ZCARD', PENDING) }
  for i = 1, #args do
    local n = 0
    for _, class_id in ipairs(redis.call('ZRANGE', heads_key(args[i]), 0, -1)) do n = n + redis.call('ZCARD', class_key(class_id)) end
    out[#out + 1] = n
  end
  local running = {}
  for _, w in ipairs(redis.call('SMEMBERS', WORKERS)) do
    for _, id in ipairs(redis.call('HKEYS', active_key(w))) do
      local s = redis.call('HGET', job_key(id), 'service_required')
      if s then running[s] = (running[s] or 0) + 1 end
    end
  end
  for s, n in pairs(running) do
    out[#out + 1] = s
    out[#out + 1] = n
  end
  return out
end

-- serve_capabilities 0 (read-only): {workers_gen, then per registered worker, by id: id,
-- capabilities (JSON text as registered), serve_kind, 1 when it holds a job else 0, services,
-- job_types}: what explain and the unroutable checks need of every worker, in one call.
local function jobrouter_serve_capabilities(_, args)
  local ids = redis.call('SMEMBERS', WORKERS)
  table.sort(ids, bytes_less)
  local out = { redis.call('GET', WORKERS_GEN) or '0' }
  for _, id in ipairs(ids) do
    local f = redis.call('HMGET', worker_key(id), 'capabilities', 'serve_kind', 'services', 'job_types')
    out[#out + 1] = id
    out[#out + 1] = f[1] or '{}'
    out[#out + 1] = f[2] or ''
    out[#out + 1] = redis.call('EXISTS', active_key(id))
    out[#out + 1] = f[3] or '[]'
    out[#out + 1] = f[4] or '[]'
  end
  return out
end

-- serve_waiting_classes 0 (read-only): the requirement classes of the pending and retrying
-- jobs, each once: {class id, service_required, customer_id, workflow_id, requirements}...
-- (fields from the first job seen of the class). O(pending + jobs in jobrouter:timers).
local function jobrouter_serve_waiting_classes(_, args)
  local seen, out = {}, {}
  local function add(id, want_status)
    local f = redis.call('HMGET', job_key(id), 'class', 'status')
    if not f[1] or seen[f[1]] or (want_status and f[2] ~= want_status) then return end
    seen[f[1]] = true
    out[#out + 1] = f[1]
    for _, v in ipairs(redis.call('HMGET', job_key(id), 'service_required', 'customer_id', 'workflow_id', 'requirements')) do
      out[#out + 1] = v or ''
    end
  end
  for _, id in ipairs(redis.call('ZRANGE', PENDING, 0, -1)) do add(id, nil) end
  for _, id in ipairs(redis.call('ZRANGE', TIMERS, 0, -1)) do add(id, 'retrying') end
  return out
end

local function ro(name, f) redis.register_function { function_name = name, callback = f, flags = { 'no-writes' } } end

ro('jobrouter_version', jobrouter_version)
ro('jobrouter_top_pending', jobrouter_top_pending)
redis.register_function('jobrouter_configure', jobrouter_configure)
redis.register_function('jobrouter_set_worker_types', jobrouter_set_worker_types)
redis.register_function('jobrouter_advance', jobrouter_advance)
redis.register_function('jobrouter_submit', jobrouter_submit)
redis.register_function('jobrouter_register', jobrouter_register)
redis.register_function('jobrouter_unregister', jobrouter_unregister)
redis.register_function('jobrouter_claim', jobrouter_claim)
redis.register_function('jobrouter_complete', jobrouter_complete)
redis.register_function('jobrouter_fail', jobrouter_fail)
redis.register_function('jobrouter_cancel', jobrouter_cancel)
redis.register_function('jobrouter_heartbeat', jobrouter_heartbeat)
redis.register_function('jobrouter_progress', jobrouter_progress)
redis.register_function('jobrouter_release', jobrouter_release)
redis.register_function('jobrouter_emp_claim', jobrouter_emp_claim)
redis.register_function('findMatchingJob', find_matching_job)
-- serve (library version 3)
ro('jobrouter_serve_list', jobrouter_serve_list)
ro('jobrouter_serve_workers', jobrouter_serve_workers)
ro('jobrouter_serve_gauges', jobrouter_serve_gauges)
-- serve's explain and unroutable jobs (library version 6)
ro('jobrouter_serve_capabilities', jobrouter_serve_capabilities)
ro('jobrouter_serve_waiting_classes', jobrouter_serve_waiting_classes)
redis.register_function('jobrouter_serve_submit', jobrouter_serve_submit)
redis.register_function('jobrouter_serve_claim', jobrouter_serve_claim)
redis.register_function('jobrouter_serve_register', jobrouter_serve_register)
redis.register_function('jobrouter_serve_unregister', jobrouter_serve_unregister)
redis.register_function('jobrouter_serve_heartbeat', jobrouter_serve_heartbeat)
redis.register_function('jobrouter_serve_renew', jobrouter_serve_renew)
redis.register_function('jobrouter_serve_progress', jobrouter_serve_progress)
redis.register_function('jobrouter_serve_complete', jobrouter_serve_complete)
redis.register_function('jobrouter_serve_fail', jobrouter_serve_fail)
redis.register_function('jobrouter_serve_cancel', jobrouter_serve_cancel)
redis.register_function('jobrouter_serve_release', jobrouter_serve_release)
redis.register_function('jobrouter_serve_tick', jobrouter_serve_tick)
