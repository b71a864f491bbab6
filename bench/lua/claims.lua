-- POST /v1/claims: a condolence claim for a new accident of one of the seeded members, each with
-- its own Idempotency-Key, the members taken in turn so that claims spread evenly over them.
--   wrk -s claims.lua URL -- THREADS OFFSET MEMBERS_FILE API_KEY DOCUMENTS_JSON COVER_STARTS
-- The accident happens on one of the 300 days from COVER_STARTS (YYYY-MM-DD, the seeded cover's
-- first day).
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

local COVER_DAYS = 300
local members, headers, documents, starts

function init(args)
   common_args(args)
   members = read_lines(args[3])
   headers = {["Authorization"] = "Bearer " .. args[4], ["Content-Type"] = "application/json"}
   documents = args[5]
   local year, month, day = args[6]:match("(%d+)-(%d+)-(%d+)")
   starts = {year = tonumber(year), month = tonumber(month), day = tonumber(day), hour = 12}
   outcome_pattern = '"status":"([%w_]+)"' -- the claim's own status comes first in its answer
end

local function day(n)
   local date = {year = starts.year, month = starts.month, day = starts.day + n % COVER_DAYS,
                 hour = 12}
   return os.date("%Y-%m-%d", os.time(date)) -- os.time carries day 40 into the next month
end

function request()
   local n = next_number()
   local ref = "bench-" .. n
   local body = string.format(
      '{"member_id":"%s","benefit":"accident_condolence",' ..
      '"event":{"kind":"accident","occurred_on":"%s","ref":"%s"},"facts":{},"documents":%s}',
      members[n % #members + 1], day(n), ref, documents)
   headers["Idempotency-Key"] = ref
   return wrk.format("POST", "/v1/claims", headers, body)
end
