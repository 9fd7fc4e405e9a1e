-- GET /post/feed?limit=10 as one reader (BENCH_TOKEN), whose feed Redis holds (warm).
package.path = "bench/?.lua;" .. package.path
local common = require("common")

local headers = nil
setup = common.setup
response = common.make_response()
done = common.done

function init(args)
  headers = { ["Authorization"] = "Bearer " .. assert(os.getenv("BENCH_TOKEN"), "BENCH_TOKEN is not set") }
end

function request()
  return wrk.format("GET", "/post/feed?limit=10", headers)
end
