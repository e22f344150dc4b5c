-- POST /mcp tools/call recall (hybrid, top_k 10) with the query mix of recall.lua; counts tool errors,
-- which arrive as 200 answers, so the run can refuse to count them.
words = {"alpha", "budget", "meeting", "project", "falcon", "notes", "release", "customer", "memory", "agent"}
tool_errors = 0
threads = {}
setup = function(thread) table.insert(threads, thread) end
request = function()
  local q = words[math.random(1, #words)] .. " " .. words[math.random(1, #words)] .. " topic " .. math.random(0, 96)
  return wrk.format("POST", "/mcp", {["Authorization"] = wrk.headers["Authorization"], ["Content-Type"] = "application/json", ["Accept"] = "application/json, text/event-stream",
                                     ["MCP-Protocol-Version"] = "2025-11-25"},
    string.format('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"recall","arguments":{"query":"%s","top_k":10,"mode":"hybrid"}}}', q))
end
response = function(status, headers, body)
  if string.find(body, '"isError":true', 1, true) or not string.find(body, '"results"', 1, true) then tool_errors = tool_errors + 1 end
end
-- response() counts in each thread's own Lua state; the main state sums them.
done = function(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("tool_errors") end
  io.write(string.format("tool errors: %d\n", total))
end
