-- Shared by the bench/*.lua wrk scripts that scripts/bench.py runs.
-- Env: BENCH_PAIRS   file of "sender_id sender_token recipient_id recipient_token" lines,
--      BENCH_THREADS wrk -t (to split BENCH_RATE between the threads),
--      BENCH_RATE    requests/s over all connections for a paced run (unset or 0: as fast as
--                    the connections go). Each thread keeps its own schedule of slots
--                    BENCH_THREADS/BENCH_RATE apart; a connection whose response comes back waits
--                    for the next free slot (wrk's delay()), so the rate holds whatever the
--                    latency, as long as the connections suffice. A thread that falls behind
--                    catches up at most 50 ms of slots, then the rate is simply missed.
-- done() prints "BENCH_STATUS <status>=<count>,..." (non-2xx answers) and one line
-- "BENCH_JSON {...}" with the counts and latency percentiles (microseconds) that bench.py parses.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]

local M = {}
local CLOCK_MONOTONIC = 1
local ts = ffi.new("bench_timespec")

-- Monotonic seconds (os.time() has a one-second resolution, os.clock() is CPU time).
function M.now()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end

function M.load_pairs()
  local path = os.getenv("BENCH_PAIRS") or "results/bench_pairs.txt"
  local pairs_ = {}
  for line in io.lines(path) do
    local s_id, s_tok, r_id, r_tok = line:match("^(%S+)%s+(%S+)%s+(%S+)%s+(%S+)")
    if s_id then
      pairs_[#pairs_ + 1] = { s_id = s_id, s_tok = s_tok, r_id = r_id, r_tok = r_tok }
    end
  end
  assert(#pairs_ > 0, "no pairs in " .. path)
  return pairs_
end

-- Runs in the main thread for each wrk thread: give it an id (threads start at different pairs).
local next_id = 0
local threads_ = {}
function M.setup(thread)
  threads_[#threads_ + 1] = thread
  thread:set("tid", next_id)
  next_id = next_id + 1
end

-- Per-thread: count non-2xx answers by status, for done().
function M.make_response()
  statuses = {} -- global: read by done() through thread:get
  return function(status, headers, body)
    if status < 200 or status > 299 then
      local k = tostring(status)
      statuses[k] = (statuses[k] or 0) + 1
    end
  end
end

-- wrk's delay() for a paced run (see BENCH_RATE above), or nil for an unpaced one.
function M.make_delay()
  local rate = tonumber(os.getenv("BENCH_RATE") or "0") or 0
  if rate <= 0 then
    return nil
  end
  local threads = tonumber(os.getenv("BENCH_THREADS") or "2") or 2
  local interval = threads / rate
  local slot = nil
  return function()
    local now = M.now()
    if slot == nil or slot < now - 0.05 then
      slot = now
    end
    local wait = slot - now
    slot = slot + interval
    return math.floor(wait * 1000 + 0.5)
  end
end

function M.done(summary, latency, requests)
  local counts = {}
  for _, t in ipairs(threads_) do
    for k, v in pairs(t:get("statuses") or {}) do
      counts[k] = (counts[k] or 0) + v
    end
  end
  local parts = {}
  for k, v in pairs(counts) do
    parts[#parts + 1] = k .. "=" .. v
  end
  io.write("BENCH_STATUS " .. table.concat(parts, ",") .. "\n")
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d,"mean_us":%.1f,' ..
    '"non2xx":%d,"connect_err":%d,"read_err":%d,"write_err":%d,"timeouts":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean,
    e.status, e.connect, e.read, e.write, e.timeout))
end

return M
