-- POST /bare: the floor of the write path, one INSERT of a small JSON body per request.
--   wrk -s bare_insert.lua URL -- THREADS OFFSET
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")

local headers = {["Content-Type"] = "application/json"}

function init(args)
   common_args(args)
end

function request()
   local body = string.format('{"n":%d}', next_number())
   return wrk.format("POST", "/bare", headers, body)
end
