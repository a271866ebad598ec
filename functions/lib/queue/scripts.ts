/**
 * The request queue's Lua scripts. Each runs atomically in Redis, so enqueue-with-idempotency, lease
 * taking, lease expiry and completion never interleave. Keys: `job:{id}` (hash), `job:{id}:out`
 * (output stream), `q:{endpoint}:pending` (list; LPUSH in, RPOP out), `q:{endpoint}:leases` (zset of
 * job id → lease expiry in ms), `q:{endpoint}:wake` (list of wake-up tokens that idle workers wait on
 * with BLPOP: one token per waiting job, so an enqueue wakes one worker rather than every idle one).
 */

/**
 * Lua: keeps the wake list (KEYS[wake]) at one token per job waiting in the pending list, at most 256:
 * each token wakes one idle worker, and a token whose job another worker took costs one empty take.
 */
const SYNC_WAKE_TOKENS = `
local function syncWake(pendingKey, wakeKey)
  local waiting = math.min(redis.call('LLEN', pendingKey), 256)
  local tokens = redis.call('LLEN', wakeKey)
  if waiting == 0 then
    redis.call('DEL', wakeKey)
  elseif tokens > waiting then
    redis.call('LTRIM', wakeKey, 0, waiting - 1)
  else
    for _ = tokens + 1, waiting do redis.call('RPUSH', wakeKey, '1') end
  end
end
`;

/**
 * Lua: puts a running job back at the front of its endpoint's queue as a new attempt. Its output
 * stream marks where the new attempt starts (a request joining the job reads from there), and the
 * old attempt's output or renewals are refused from now on (`attempt` moved on). The one way a job is
 * re-queued: its lease lapsed (TAKE) or its worker handed it back (RELEASE).
 */
const REQUEUE_JOB = `
local function requeue(jobKey, id, pendingKey)
  local restart = redis.call('XADD', jobKey .. ':out', '*', 'type', 'requeued', 'data', '')
  redis.call('HSET', jobKey, 'state', 'queued', 'replica', '', 'seq', 0, 'restart', restart)
  redis.call('HINCRBY', jobKey, 'attempt', 1)
  redis.call('RPUSH', pendingKey, id)
end
`;

/**
 * Lua: counts a job that ended (succeeded, failed or timed out; a cancelled one is not counted) in its
 * endpoint's metrics for this minute: a request, a failure unless it succeeded, its GPU time, and its
 * latency since it was queued (its hash's `created`) among the newest samples. Counted in the script
 * that ends the job, so a retried report cannot count it twice and a lost one cannot leave it out.
 */
const COUNT_JOB_END = `
local function countEnd(jobKey, countsKey, latencyKey, state, gpuMs, now, ttl, samples)
  redis.call('HINCRBY', countsKey, 'requests', 1)
  if state ~= 'succeeded' then redis.call('HINCRBY', countsKey, 'failures', 1) end
  redis.call('HINCRBY', countsKey, 'gpu_ms', math.floor(gpuMs + 0.5))
  redis.call('EXPIRE', countsKey, ttl)
  local created = tonumber(redis.call('HGET', jobKey, 'created') or now)
  redis.call('LPUSH', latencyKey, math.max(0, now - created))
  redis.call('LTRIM', latencyKey, 0, tonumber(samples) - 1)
  redis.call('EXPIRE', latencyKey, ttl)
end
`;

/**
 * KEYS: idempotency key, job hash, pending list, wake list, polls zset, replicas-gone counter. ARGV: job id, ttl s,
 * use-idempotency flag, request fingerprint, now ms, fields… A wake token lets one worker
 * long-polling for this endpoint take the job. Returns {job id, 0 new | 1 same request again | 2 the key was used
 * for a different request, jobs now waiting in the endpoint's queue (new jobs, and a repeated one
 * still waiting), 1 when a live
 * replica polled in the last 30 s, how many replicas have left the endpoint}: what the scale-up nudge
 * needs, in the same round trip.
 */
export const ENQUEUE = `
if ARGV[3] == '1' then
  local existing = redis.call('GET', KEYS[1])
  -- A key whose job has expired is free again: a late retry runs anew rather than waiting for nothing.
  if existing and redis.call('EXISTS', 'job:' .. existing) == 1 then
    if redis.call('HGET', 'job:' .. existing, 'fingerprint') ~= ARGV[4] then return {existing, 2, 0} end
    -- The same request again. If its job still waits, answer what a scale-up nudge needs: the first
    -- try's reply may have been lost before that try could send one (a scaled-to-zero endpoint).
    if redis.call('HGET', 'job:' .. existing, 'state') == 'queued' then
      local polling = redis.call('ZCOUNT', KEYS[5], tonumber(ARGV[5]) - 30000, '+inf') > 0 and 1 or 0
      return {existing, 1, redis.call('LLEN', KEYS[3]), polling, tonumber(redis.call('GET', KEYS[6]) or '0')}
    end
    return {existing, 1, 0}
  end
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
end
-- This very job again: the client's own retry of a call whose reply was lost. It is queued (or taken,
-- or done) already; writing it anew would reset a job a worker may be running, and queue it twice.
if redis.call('EXISTS', KEYS[2]) == 1 then
  if redis.call('HGET', KEYS[2], 'state') == 'queued' then
    local polling = redis.call('ZCOUNT', KEYS[5], tonumber(ARGV[5]) - 30000, '+inf') > 0 and 1 or 0
    return {ARGV[1], 1, redis.call('LLEN', KEYS[3]), polling, tonumber(redis.call('GET', KEYS[6]) or '0')}
  end
  return {ARGV[1], 1, 0}
end
redis.call('HSET', KEYS[2], 'fingerprint', ARGV[4], unpack(ARGV, 6))
redis.call('EXPIRE', KEYS[2], ARGV[2])
local waiting = redis.call('LPUSH', KEYS[3], ARGV[1])
if waiting <= 256 then redis.call('RPUSH', KEYS[4], '1') end
local polling = redis.call('ZCOUNT', KEYS[5], tonumber(ARGV[5]) - 30000, '+inf') > 0 and 1 or 0
return {ARGV[1], 0, waiting, polling, tonumber(redis.call('GET', KEYS[6]) or '0')}
`;

/** Sorted set: async jobs that ended in the queue, by end time (ms), until Postgres records their end. */
export const UNSETTLED_KEY = 'jobs:unsettled';

/**
 * Lua: notes an async job that just ended (every script that ends a job calls it), so that the minute
 * sweep records its end should the recorder fail (the edge gone, Postgres down) — rather than only
 * at the job's deadline. `settleAsyncJob` takes it off once Postgres holds the end.
 */
const NOTE_UNSETTLED = `
local function noteUnsettled(jobKey, now)
  if redis.call('HGET', jobKey, 'async') == '1' then
    redis.call('ZADD', '${UNSETTLED_KEY}', now, string.sub(jobKey, 5))
  end
end
`;

/**
 * Lua: fails a running job that cannot be delivered or kept alive (its workers lost too often, or it
 * never reached one), with `reason` as the error its caller reads.
 */
const FAIL_UNDELIVERABLE = `${COUNT_JOB_END}${NOTE_UNSETTLED}
local function failUndeliverable(job, reason, now, streamTtl, countsKey, latencyKey, metricsTtl, samples)
  redis.call('HSET', job, 'state', 'failed', 'completed', now, 'gpu_ms', 0, 'outcome', reason)
  noteUnsettled(job, now)
  redis.call('XADD', job .. ':out', '*', 'type', 'error', 'data', reason, 'gpu_ms', 0)
  redis.call('EXPIRE', job .. ':out', streamTtl)
  countEnd(job, countsKey, latencyKey, 'failed', 0, now, metricsTtl, samples)
end
`;

/**
 * A worker's poll, in one round trip: records when the replica last polled (a replica that is released
 * or fails is struck off at once; one that stops polling counts for 30 s), re-queues jobs whose lease
 * expired (their worker died: they go to the front; the job keeps the id of their `requeued` event,
 * where a joining request starts reading), then leases up to ARGV[4] queued jobs to the
 * replica and marks it busy. A job past its deadline is timed out (and counted) instead of leased. The
 * wake tokens are then matched to the jobs still waiting, so idle workers wake for exactly those.
 * KEYS: pending list, leases zset, wake list, polls zset, busy hash, metrics hash, metrics latency
 * list, the replica's last-take memo. ARGV: now ms, lease ms, replica id, max jobs, stream ttl s, a
 * key whose existence means "take nothing" (the worker's released tombstone) or '', metrics ttl s,
 * latency samples kept, lost leases after which a job fails rather than being re-queued, this take's
 * id (a run of the same take again answers the jobs it leased: see the memo). Returns a flat
 * list: 'ok', the number of jobs this take ended (failed after too many lost leases, timed out) and
 * their ids, then id, kind, input, deadline, attempt, … per leased job; or {'stopped'} when the
 * tombstone exists.
 */
export const TAKE = `${SYNC_WAKE_TOKENS}${FAIL_UNDELIVERABLE}${REQUEUE_JOB}
local now = tonumber(ARGV[1])
if ARGV[6] ~= '' and redis.call('EXISTS', ARGV[6]) == 1 then return {'stopped'} end
local memo = redis.call('GET', KEYS[8])
if memo and string.sub(memo, 1, #ARGV[10] + 1) == ARGV[10] .. ' ' then
  -- This very take run again (the client retried after losing its reply): the jobs it leased, still
  -- this replica's, rather than more jobs that nobody would hear of.
  local again = {'ok', 0}
  for id in string.gmatch(string.sub(memo, #ARGV[10] + 2), '%S+') do
    local job = 'job:' .. id
    if redis.call('HGET', job, 'state') == 'running' and redis.call('HGET', job, 'replica') == ARGV[3] then
      table.insert(again, id)
      table.insert(again, redis.call('HGET', job, 'kind'))
      table.insert(again, redis.call('HGET', job, 'input'))
      table.insert(again, redis.call('HGET', job, 'deadline'))
      table.insert(again, redis.call('HGET', job, 'attempt'))
    end
  end
  return again
end
redis.call('ZADD', KEYS[4], now, ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - 3600000)
redis.call('EXPIRE', KEYS[4], 86400)
local ended = {}
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
for _, id in ipairs(expired) do
  redis.call('ZREM', KEYS[2], id)
  local job = 'job:' .. id
  if redis.call('HGET', job, 'state') == 'running' then
    if redis.call('HINCRBY', job, 'lost', 1) >= tonumber(ARGV[9]) then
      -- Its workers vanished under it every time (a crash, an out-of-memory kill): it may be what
      -- kills them, so it fails instead of taking down replica after replica until its deadline.
      local reason = '{"message":"The worker running this request was lost ' .. ARGV[9] ..
        ' times (it may crash the model server); it is not retried again.","type":"engine_error"}'
      failUndeliverable(job, reason, now, ARGV[5], KEYS[6], KEYS[7], ARGV[7], ARGV[8])
      table.insert(ended, id)
    else
      requeue(job, id, KEYS[1])
    end
  end
end
local taken = {'ok', 0}
local count = 0
while count < tonumber(ARGV[4]) do
  local id = redis.call('RPOP', KEYS[1])
  if not id then break end
  local job = 'job:' .. id
  if redis.call('HGET', job, 'state') == 'queued' then
    local deadline = tonumber(redis.call('HGET', job, 'deadline'))
    if deadline <= now then
      redis.call('HSET', job, 'state', 'timed_out', 'completed', now)
      noteUnsettled(job, now)
      redis.call('XADD', job .. ':out', '*', 'type', 'timed_out', 'data', '')
      redis.call('EXPIRE', job .. ':out', ARGV[5])
      countEnd(job, KEYS[6], KEYS[7], 'timed_out', 0, now, ARGV[7], ARGV[8])
      table.insert(ended, id)
    else
      redis.call('HSET', job, 'state', 'running', 'replica', ARGV[3], 'started', now)
      redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), id)
      table.insert(taken, id)
      table.insert(taken, redis.call('HGET', job, 'kind'))
      table.insert(taken, redis.call('HGET', job, 'input'))
      table.insert(taken, tostring(deadline))
      table.insert(taken, redis.call('HGET', job, 'attempt'))
      count = count + 1
    end
  end
end
if count > 0 then
  redis.call('HSET', KEYS[5], ARGV[3], now)
  local ids = {}
  for i = 3, #taken, 5 do table.insert(ids, taken[i]) end
  redis.call('SET', KEYS[8], ARGV[10] .. ' ' .. table.concat(ids, ' '), 'PX', ARGV[2])
end
syncWake(KEYS[1], KEYS[3])
taken[2] = #ended
for i, id in ipairs(ended) do table.insert(taken, 2 + i, id) end
return taken
`;

/**
 * Appends a worker's output events for several of its jobs at once (a worker sends one batch for all
 * the jobs it is streaming) and extends their leases, each only while the job is still this attempt's
 * (a cancelled, re-queued or overdue job answers 0, telling the worker to stop it). Batches carry a
 * sequence number per job: a batch the worker resends after a lost reply is not appended twice. The
 * replica is marked busy. KEYS: leases zset, busy hash, then per job its hash and output stream.
 * ARGV: replica id, lease until ms, ttl s, now ms, then per job: job id, attempt, batch seq, number of
 * events, events… Returns 1 or 0 per job, in order.
 */
export const APPEND = `
local replica, leaseUntil, ttl, now = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local kept = {}
local anyKept = false
local a = 5
for item = 1, (#KEYS - 2) / 2 do
  local job, out = KEYS[1 + item * 2], KEYS[2 + item * 2]
  local id, attempt, seq, first = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2]), a + 4
  a = first + tonumber(ARGV[a + 3])
  local ours = redis.call('HGET', job, 'state') == 'running' and redis.call('HGET', job, 'replica') == replica
    and redis.call('HGET', job, 'attempt') == attempt and tonumber(redis.call('HGET', job, 'deadline')) > now
  if ours then
    anyKept = true
    redis.call('ZADD', KEYS[1], leaseUntil, id)
    if seq > tonumber(redis.call('HGET', job, 'seq') or '0') then
      redis.call('HSET', job, 'seq', seq)
      for i = first, a - 1 do
        redis.call('XADD', out, '*', 'type', 'chunk', 'data', ARGV[i])
      end
    end
    redis.call('EXPIRE', out, ttl)
  end
  table.insert(kept, ours and 1 or 0)
end
if anyKept then redis.call('HSET', KEYS[2], replica, now) end
return kept
`;

/**
 * A worker hands back a job it cannot finish (it is shutting down): it is re-queued now, at the front,
 * as a new attempt, and a long-polling worker is woken to take it. Re-queued here rather than left to
 * the next take, so output or a renewal the old attempt still sends is refused (it would otherwise
 * extend the lease it gave up). A hand-back is not a lost lease: it never counts toward failing the
 * job. Only the replica and attempt holding the lease may. KEYS: job hash, leases zset, wake list,
 * pending list. ARGV: job id, replica id, attempt.
 */
export const RELEASE = `${REQUEUE_JOB}
if redis.call('HGET', KEYS[1], 'state') ~= 'running' or redis.call('HGET', KEYS[1], 'replica') ~= ARGV[2]
  or redis.call('HGET', KEYS[1], 'attempt') ~= ARGV[3] then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
requeue(KEYS[1], ARGV[1], KEYS[4])
redis.call('RPUSH', KEYS[3], '1')
return 1
`;

/** The job fields the edge records a job's end from, in the order FINISH returns them. */
export const BOOKKEEPING_FIELDS = [
  'async',
  'price',
  'started',
  'created',
  'state',
  'replica',
  'attempt',
  'outcome',
  'org',
  'endpoint',
  'kind',
  'completed',
  'key',
  'gpu_ms',
] as const;

/**
 * Finishes a job: state, outcome and GPU time (a worker's, at most the time since its lease began) on
 * the hash, the lease released, and the terminal event on the stream the waiting request reads. A worker (replica id and attempt given) may only finish its
 * own running attempt; the edge (replica '') stops a queued or running job, billing a running one up
 * to now, and takes a queued one off the pending list so queue depth (which scaling reads) stays
 * true. The terminal event carries the GPU time, so the waiting request needs no further read; a
 * worker's finish marks its replica busy. Returns 1 (finished) or 0 (refused), then the job's
 * BOOKKEEPING_FIELDS as they stand after it, so recording the end needs no further read.
 * A worker's finish also adds its GPU time to the replica's busy time (read when the replica is metered).
 * The job is counted in its endpoint's metrics (unless cancelled).
 * KEYS: job hash, leases zset, output stream, pending list, busy hash, busy-time hash, metrics hash,
 * metrics latency list. ARGV: job id, replica id, final state, event type, payload, now ms, ttl s,
 * gpu ms, allowed prior states, attempt, metrics ttl s, latency samples kept, the finishing replica's
 * price per hour or '' (the job keeps the price it was queued with). The terminal event carries the
 * GPU time and the price, so the waiting request needs no further read.
 */
export const FINISH = `${COUNT_JOB_END}${NOTE_UNSETTLED}
local function reply(finished)
  return {finished, unpack(redis.call('HMGET', KEYS[1], '${BOOKKEEPING_FIELDS.join("', '")}'))}
end
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return reply(0) end
local allowed = false
for prior in string.gmatch(ARGV[9], '[^,]+') do
  if state == prior then allowed = true end
end
if not allowed then return reply(0) end
local gpu = ARGV[8]
-- Time since the job was leased (for a running job): what a stop bills, and a worker's bound.
local leased = tonumber(ARGV[6]) - tonumber(redis.call('HGET', KEYS[1], 'started') or ARGV[6])
if ARGV[2] ~= '' then
  if redis.call('HGET', KEYS[1], 'replica') ~= ARGV[2] or redis.call('HGET', KEYS[1], 'attempt') ~= ARGV[10] then return reply(0) end
  -- The worker's figure, but never more than the time since it was leased the job: a worker's clock
  -- (stepped, or lying) cannot bill more GPU time than the job has had.
  gpu = tostring(math.max(0, math.min(tonumber(ARGV[8]), leased)))
  -- Priced as the replica that ran it (a fallback GPU type has its own price), not as queued.
  if ARGV[13] ~= '' then redis.call('HSET', KEYS[1], 'price', ARGV[13]) end
  redis.call('HSET', KEYS[5], ARGV[2], ARGV[6])
  redis.call('HINCRBY', KEYS[6], ARGV[2], tonumber(gpu))
  redis.call('EXPIRE', KEYS[6], 86400)
elseif state == 'running' then
  gpu = tostring(leased)
end
redis.call('HSET', KEYS[1], 'state', ARGV[3], 'completed', ARGV[6], 'gpu_ms', gpu, 'outcome', ARGV[5])
noteUnsettled(KEYS[1], ARGV[6])
redis.call('ZREM', KEYS[2], ARGV[1])
if state == 'queued' then redis.call('LREM', KEYS[4], 1, ARGV[1]) end
redis.call('XADD', KEYS[3], '*', 'type', ARGV[4], 'data', ARGV[5], 'gpu_ms', gpu, 'price',
  redis.call('HGET', KEYS[1], 'price') or '0')
redis.call('EXPIRE', KEYS[3], ARGV[7])
redis.call('EXPIRE', KEYS[1], ARGV[7])
if ARGV[3] ~= 'cancelled' then
  countEnd(KEYS[1], KEYS[7], KEYS[8], ARGV[3], tonumber(gpu), tonumber(ARGV[6]), ARGV[11], ARGV[12])
end
return reply(1)
`;

/**
 * Expires a gone replica's leases now (released, failed), so the next take re-queues those jobs
 * instead of waiting out the leases: each counts as a lost lease, as when a worker dies under its job.
 * As many long-polling workers are woken as leases ended (the first take re-queues them all, and its
 * wake tokens then match what it left). KEYS: leases zset, wake list. ARGV: replica id.
 */
export const EXPIRE_LEASES = `
local released = 0
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local job = 'job:' .. id
  if redis.call('HGET', job, 'replica') == ARGV[1] and redis.call('HGET', job, 'state') == 'running' then
    redis.call('ZADD', KEYS[1], 0, id)
    released = released + 1
  end
end
for _ = 1, math.min(released, 256) do redis.call('RPUSH', KEYS[2], '1') end
return released
`;

/**
 * Re-queues the jobs leased to a replica that it never received (a take's reply was lost, or in
 * flight when the worker stopped): all its leases but the jobs it says it holds, each put back at the
 * front as a new attempt at once, with a long-polling worker woken for it. The job never reached a
 * worker, so this is not a lost lease; but a job handed back this way ARGV[6] times fails (something
 * about it, its size say, keeps its delivery failing) rather than cycling until its deadline.
 * KEYS: leases zset, wake list, pending list, metrics hash, metrics latency list. ARGV: replica id,
 * now ms, stream ttl s, metrics ttl s, latency samples kept, hand-backs after which a job fails, held
 * job ids…. Returns the number handed back, then the ids of the jobs it failed.
 */
export const RELEASE_UNCLAIMED = `${FAIL_UNDELIVERABLE}${REQUEUE_JOB}
local held = {}
for i = 7, #ARGV do held[ARGV[i]] = true end
local released = 0
local reply = {0}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local job = 'job:' .. id
  if not held[id] and redis.call('HGET', job, 'replica') == ARGV[1] and redis.call('HGET', job, 'state') == 'running' then
    redis.call('ZREM', KEYS[1], id)
    if redis.call('HINCRBY', job, 'handbacks', 1) >= tonumber(ARGV[6]) then
      local reason = '{"message":"The request could not be delivered to a worker after ' .. ARGV[6] ..
        ' tries; it is not retried again.","type":"engine_error"}'
      failUndeliverable(job, reason, tonumber(ARGV[2]), ARGV[3], KEYS[4], KEYS[5], ARGV[4], ARGV[5])
      table.insert(reply, id)
    else
      requeue(job, id, KEYS[3])
      released = released + 1
    end
  end
end
for _ = 1, math.min(released, 256) do redis.call('RPUSH', KEYS[2], '1') end
reply[1] = released
return reply
`;
