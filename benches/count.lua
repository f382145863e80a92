-- wrk: counting of non-200 answers, shared by cc.lua and get.lua. Each wrk thread has
-- its own Lua state, so the counts are gathered from the threads in done().
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0 end
function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end
function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do n = n + (t:get("bad") or 0) end
  io.write(string.format("non200 %d\n", n))
end
