-- POST /v1/memories/search, hybrid, top_k 10: the REST twin of mcp_recall.lua (same queries, same body check).
words = {"alpha", "budget", "meeting", "project", "falcon", "notes", "release", "customer", "memory", "agent"}
tool_errors = 0
threads = {}
setup = function(thread) table.insert(threads, thread) end
request = function()
  local q = words[math.random(1, #words)] .. " " .. words[math.random(1, #words)] .. " topic " .. math.random(0, 96)
  return wrk.format("POST", "/v1/memories/search", {["Authorization"] = wrk.headers["Authorization"], ["Content-Type"] = "application/json"}, string.format('{"query":"%s","top_k":10,"mode":"hybrid"}', q))
end
response = function(status, headers, body)
  if not string.find(body, '"results"', 1, true) then tool_errors = tool_errors + 1 end
end
-- response() counts in each thread's own Lua state; the main state sums them.
done = function(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("tool_errors") end
  io.write(string.format("tool errors: %d\n", total))
end
