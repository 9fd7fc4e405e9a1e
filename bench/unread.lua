-- GET /counters/unread, alternating over every user's token (senders and recipients).
package.path = "bench/?.lua;" .. package.path
local common = require("common")

local tokens, i = {}, 0
setup = common.setup
response = common.make_response()
done = common.done

function init(args)
  for _, p in ipairs(common.load_pairs()) do
    tokens[#tokens + 1] = p.r_tok
    tokens[#tokens + 1] = p.s_tok
  end
  i = (tid or 0) * 7
end

function request()
  i = i + 1
  return wrk.format("GET", "/counters/unread",
    { ["Authorization"] = "Bearer " .. tokens[(i % #tokens) + 1] })
end
