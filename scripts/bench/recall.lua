-- POST /v1/memories/search, top_k 10, with varying queries.
words = {"alpha", "budget", "meeting", "project", "falcon", "notes", "release", "customer", "memory", "agent"}
request = function()
  local q = words[math.random(1, #words)] .. " " .. words[math.random(1, #words)] .. " topic " .. math.random(0, 96)
  return wrk.format("POST", "/v1/memories/search", {["Content-Type"] = "application/json"}, string.format('{"query":"%s","top_k":10}', q))
end
