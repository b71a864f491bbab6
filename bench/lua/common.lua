-- What every bench script shares: each thread counts the statuses it gets (and, when the script
-- sets `outcome_pattern`, the first capture of that pattern in each body), and `done()` prints
-- one line, `WRK_RESULT {json}`, with the counts and latency quantiles that bench/wrk.py reads.
-- Every script's arguments begin with the thread count and the first request number; it then
-- draws numbers with `next_number()`: OFFSET, OFFSET + 1, ... over all threads together, no two
-- threads drawing the same one. `next_offset` in the result is where the next run may begin.

-- With WRK_DELAY_MS set, each connection waits that long after an answer before its next
-- request: a steady rate of about connections * 1000 / (delay + latency) a second.

local threads = {}
local pace_ms = tonumber(os.getenv("WRK_DELAY_MS") or "")
if pace_ms then
   function delay()
      return pace_ms
   end
end
QUANTILES = 1000 -- equal-mass latency samples per run, so that rounds can be merged

function setup(thread)
   thread:set("thread_id", #threads)
   table.insert(threads, thread)
end

statuses = {}
outcomes = {}
outcome_pattern = nil
thread_id = 0
drawn = 0

-- wrk passes a script the arguments after `--`.
function common_args(args)
   thread_count = tonumber(args[1])
   number_offset = tonumber(args[2])
end

-- The lines of a file (ids, one a line) as a list.
function read_lines(path)
   local lines = {}
   for line in io.lines(path) do
      table.insert(lines, line)
   end
   return lines
end

function next_number()
   local n = number_offset + drawn * thread_count + thread_id
   drawn = drawn + 1
   return n
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
   if outcome_pattern then
      local found = body and body:match(outcome_pattern) or "none"
      outcomes[found] = (outcomes[found] or 0) + 1
   end
end

local function merge(into, counts)
   for key, count in pairs(counts or {}) do
      into[tostring(key)] = (into[tostring(key)] or 0) + count
   end
end

local function object(counts)
   local parts = {}
   for key, count in pairs(counts) do
      table.insert(parts, string.format("%q:%d", key, count))
   end
   return "{" .. table.concat(parts, ",") .. "}"
end

function done(summary, latency, requests)
   local all_statuses, all_outcomes, next_offset = {}, {}, 0
   for _, thread in ipairs(threads) do
      merge(all_statuses, thread:get("statuses"))
      merge(all_outcomes, thread:get("outcomes"))
      local last = thread:get("number_offset") + thread:get("drawn") * thread:get("thread_count")
      next_offset = math.max(next_offset, last)
   end
   local quantiles = {}
   for i = 1, QUANTILES do
      quantiles[i] = string.format("%d", latency:percentile((i - 0.5) * 100 / QUANTILES))
   end
   local errors = summary.errors
   io.write(string.format(
      'WRK_RESULT {"requests":%d,"duration_us":%d,"next_offset":%d,"statuses":%s,"outcomes":%s,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},"quantiles_us":[%s]}\n',
      summary.requests, summary.duration, next_offset, object(all_statuses), object(all_outcomes),
      errors.connect, errors.read, errors.write, errors.timeout, table.concat(quantiles, ",")))
end
