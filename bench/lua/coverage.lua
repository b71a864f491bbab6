-- GET /v1/platform/workers/{id}/coverage (or, with a PATH_PREFIX of /bare/workers/ and no key,
-- the floor's same look-up): nine in ten ids asked are covered workers of the platform, taken
-- spread over all of them, one in ten an unknown id. The requests are built once, in init().
--   wrk -s coverage.lua URL -- THREADS OFFSET WORKERS_FILE PATH_PREFIX PATH_SUFFIX [API_KEY]
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

local SPREAD = 7919 -- a prime: consecutive numbers ask about workers far apart
local UNKNOWN_EVERY = 10
local requests = {}
local sent = 0

function init(args)
   common_args(args)
   local workers = read_lines(args[3])
   local headers = {}
   if args[6] then
      headers["Authorization"] = "Bearer " .. args[6]
   end
   for i = 0, #workers - 1 do
      local n = next_number()
      local id = n % UNKNOWN_EVERY == UNKNOWN_EVERY - 1 and ("unknown-" .. n)
         or workers[(n * SPREAD) % #workers + 1]
      requests[i + 1] = wrk.format("GET", args[4] .. id .. args[5], headers)
   end
   outcome_pattern = '"covered":(%a+)'
end

function request()
   sent = sent + 1
   return requests[(sent - 1) % #requests + 1]
end
