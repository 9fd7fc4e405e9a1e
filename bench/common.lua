-- Shared by the bench/*.lua wrk scripts.
-- Env: BENCH_PAIRS (file of "sender_id sender_token recipient_id recipient_token" lines),
--      BENCH_LIMIT (total responses to stop after, 0 = run for wrk's -d),
--      BENCH_THREADS (wrk -t, to split the limit).
-- done() prints one line "BENCH_JSON {...}" that scripts/bench_saga.sh parses.
local M = {}

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

-- Runs in the main thread for each wrk thread: give it an id.
local next_id = 0
local threads_ = {}
function M.setup(thread)
  threads_[#threads_ + 1] = thread
  thread:set("tid", next_id)
  next_id = next_id + 1
end

-- Per-thread: stop the thread once it has its share of BENCH_LIMIT responses (BENCH_DONE_DIR/done.<tid>).
function M.make_response()
  local limit = tonumber(os.getenv("BENCH_LIMIT") or "0") or 0
  local threads = tonumber(os.getenv("BENCH_THREADS") or "2") or 2
  local share = math.ceil(limit / threads)
  local seen = 0
  statuses = {}   -- global: read by done() through thread:get
  return function(status, headers, body)
    seen = seen + 1
    if status < 200 or status > 299 then
      local k = tostring(status)
      statuses[k] = (statuses[k] or 0) + 1
    end
    if share > 0 and seen == share then
      -- wrk's main thread sleeps for the whole -d whatever the threads do, so leave a marker:
      -- scripts/bench_saga.sh sends SIGINT (wrk then prints its summary) once all are there.
      local dir = os.getenv("BENCH_DONE_DIR")
      if dir then
        local f = io.open(dir .. "/done." .. tostring(tid or 0), "w")
        if f then f:close() end
      end
      wrk.thread:stop()
    end
  end
end

function M.done(summary, latency, requests)
  local counts = {}
  for _, t in ipairs(threads_) do
    for k, v in pairs(t:get("statuses") or {}) do counts[k] = (counts[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(counts) do parts[#parts + 1] = k .. "=" .. v end
  io.write("BENCH_STATUS " .. table.concat(parts, ",") .. "\n")
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,' ..
    '"non2xx":%d,"connect_err":%d,"read_err":%d,"write_err":%d,"timeouts":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.status, e.connect, e.read, e.write, e.timeout))
end

return M
