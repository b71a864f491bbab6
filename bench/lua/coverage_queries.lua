-- POST /v1/platform/coverage-queries: SIZE worker ids of the platform's covered workers a
-- request, each request a different run of them (taken in turn, wrapping round).
--   wrk -s coverage_queries.lua URL -- THREADS OFFSET WORKERS_FILE API_KEY SIZE
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

local workers, headers, size

function init(args)
   common_args(args)
   workers = read_lines(args[3])
   headers = {["Authorization"] = "Bearer " .. args[4], ["Content-Type"] = "application/json"}
   size = tonumber(args[5])
end

function request()
   local n = next_number()
   local ids = {}
   for i = 0, size - 1 do
      ids[i + 1] = '"' .. workers[(n * size + i) % #workers + 1] .. '"'
   end
   local body = '{"worker_ids":[' .. table.concat(ids, ",") .. ']}'
   return wrk.format("POST", "/v1/platform/coverage-queries", headers, body)
end
