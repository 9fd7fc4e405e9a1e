-- GET /user/search?first_name=&last_name= with random name prefixes, for bench/search.py.
-- Env: BENCH_PREFIXES (file of "first_prefix last_prefix" lines, URL-encoded; bench/search.py
--      writes it from bench/names.py).
-- done() prints common.done's BENCH_STATUS and BENCH_JSON lines, then "BENCH_PCTL {...}" with
-- the percentiles wrk's --latency table lacks (p99.9).
-- No response(): wrk then skips handing every body (up to 100 users of JSON) to Lua, which would
-- cost the client CPU it shares with the server; non-2xx responses are still counted in done().
package.path = "bench/?.lua;" .. package.path
local common = require("common")

local paths = {}
setup = common.setup

function init(args)
  local path = os.getenv("BENCH_PREFIXES") or "results/search_prefixes.txt"
  for line in io.lines(path) do
    local first, last = line:match("^(%S+)%s+(%S+)")
    if first then
      paths[#paths + 1] = "/user/search?first_name=" .. first .. "&last_name=" .. last
    end
  end
  assert(#paths > 0, "no prefixes in " .. path)
  math.randomseed(os.time() * 100 + (tid or 0))   -- each thread its own sequence
end

function request()
  return wrk.format("GET", paths[math.random(#paths)])
end

function done(summary, latency, requests)
  common.done(summary, latency, requests)
  io.write(string.format('BENCH_PCTL {"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d}\n',
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max))
end
