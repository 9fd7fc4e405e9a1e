-- GET /dialog/{sender}/list as the recipient of each pair (the last 100 messages; this marks them
-- read unless dialogs runs with MARK_AS_READ_ON_LISTING=0, as scripts/bench.py reads does).
package.path = "bench/?.lua;" .. package.path
local common = require("common")

local pairs_, i = nil, 0
setup = common.setup
response = common.make_response()
done = common.done

function init(args)
  pairs_ = common.load_pairs()
  i = (tid or 0) * 7
end

function request()
  i = i + 1
  local p = pairs_[(i % #pairs_) + 1]
  return wrk.format("GET", "/dialog/" .. p.s_id .. "/list",
    { ["Authorization"] = "Bearer " .. p.r_tok })
end
