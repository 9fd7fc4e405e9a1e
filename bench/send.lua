-- POST /dialog/{recipient}/send as the sender of each pair, rotating over the pairs;
-- paced to BENCH_RATE requests/s when that is set (common.make_delay).
package.path = "bench/?.lua;" .. package.path
local common = require("common")

local pairs_, i, n = nil, 0, 0
setup = common.setup
response = common.make_response()
done = common.done
delay = common.make_delay()

function init(args)
  pairs_ = common.load_pairs()
  i = (tid or 0) * 7          -- threads start at different pairs
end

function request()
  i = i + 1
  n = n + 1
  local p = pairs_[(i % #pairs_) + 1]
  local body = string.format('{"text":"bench message %d from thread %d"}', n, tid or 0)
  return wrk.format("POST", "/dialog/" .. p.r_id .. "/send",
    { ["Authorization"] = "Bearer " .. p.s_tok, ["Content-Type"] = "application/json" }, body)
end
