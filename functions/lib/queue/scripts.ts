/**
 * The request queue's Lua scripts. Each runs atomically in Redis, so enqueue-with-idempotency, lease
 * taking, lease expiry and completion never interleave. Keys: `job:{id}` (hash), `job:{id}:out`
 * (output stream), `q:{endpoint}:pending` (list; LPUSH in, RPOP out), `q:{endpoint}:leases` (zset of
 * job id → lease expiry in ms).
 */

/**
 * KEYS: idempotency key, job hash, pending list, notify stream. ARGV: job id, ttl s, use-idempotency
 * flag, fields… The notify stream wakes workers long-polling for this endpoint.
 */
export const ENQUEUE = `
if ARGV[3] == '1' then
  local existing = redis.call('GET', KEYS[1])
  if existing then return {existing, 1} end
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
end
redis.call('HSET', KEYS[2], unpack(ARGV, 4))
redis.call('EXPIRE', KEYS[2], ARGV[2])
redis.call('LPUSH', KEYS[3], ARGV[1])
redis.call('XADD', KEYS[4], 'MAXLEN', '~', '1000', '*', 'job', ARGV[1])
return {ARGV[1], 0}
`;

/**
 * Re-queues jobs whose lease expired (their worker died: they go to the front), then leases up to
 * ARGV[4] queued jobs to the replica. A job past its deadline is timed out instead of leased.
 * KEYS: pending list, leases zset. ARGV: now ms, lease ms, replica id, max jobs, stream ttl s.
 * Returns a flat list: id, kind, input, deadline, attempt, … per leased job.
 */
export const TAKE = `
local now = tonumber(ARGV[1])
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
for _, id in ipairs(expired) do
  redis.call('ZREM', KEYS[2], id)
  local job = 'job:' .. id
  if redis.call('HGET', job, 'state') == 'running' then
    redis.call('HSET', job, 'state', 'queued', 'replica', '')
    redis.call('HINCRBY', job, 'attempt', 1)
    redis.call('XADD', job .. ':out', '*', 'type', 'requeued', 'data', '')
    redis.call('RPUSH', KEYS[1], id)
  end
end
local taken = {}
local count = 0
while count < tonumber(ARGV[4]) do
  local id = redis.call('RPOP', KEYS[1])
  if not id then break end
  local job = 'job:' .. id
  if redis.call('HGET', job, 'state') == 'queued' then
    local deadline = tonumber(redis.call('HGET', job, 'deadline'))
    if deadline <= now then
      redis.call('HSET', job, 'state', 'timed_out', 'completed', now)
      redis.call('XADD', job .. ':out', '*', 'type', 'timed_out', 'data', '')
      redis.call('EXPIRE', job .. ':out', ARGV[5])
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
return taken
`;

/**
 * Appends a worker's output events and extends its lease, only while the job is still that replica's
 * running job (a cancelled or re-queued job answers 0, telling the worker to stop).
 * KEYS: job hash, leases zset, output stream. ARGV: job id, replica id, lease until ms, ttl s, events…
 */
export const APPEND = `
if redis.call('HGET', KEYS[1], 'state') ~= 'running' or redis.call('HGET', KEYS[1], 'replica') ~= ARGV[2] then
  return 0
end
redis.call('ZADD', KEYS[2], tonumber(ARGV[3]), ARGV[1])
for i = 5, #ARGV do
  redis.call('XADD', KEYS[3], '*', 'type', 'chunk', 'data', ARGV[i])
end
redis.call('EXPIRE', KEYS[3], ARGV[4])
return 1
`;

/**
 * Finishes a running job: state, result and usage on the hash, the lease released, and the terminal
 * event on the stream the waiting request reads. KEYS: job hash, leases zset, output stream.
 * ARGV: job id, replica id (or '' for the edge), final state, event type, payload, now ms, ttl s,
 * gpu ms, allowed prior states ('running' or 'queued,running').
 */
export const FINISH = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 0 end
local allowed = false
for prior in string.gmatch(ARGV[9], '[^,]+') do
  if state == prior then allowed = true end
end
if not allowed then return 0 end
if ARGV[2] ~= '' and redis.call('HGET', KEYS[1], 'replica') ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[3], 'completed', ARGV[6], 'gpu_ms', ARGV[8])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('XADD', KEYS[3], '*', 'type', ARGV[4], 'data', ARGV[5])
redis.call('EXPIRE', KEYS[3], ARGV[7])
redis.call('EXPIRE', KEYS[1], ARGV[7])
return 1
`;
