-- POST /v1/memories with a new coordinate each request.
counter = 0
request = function()
  counter = counter + 1
  local body = string.format('{"coord":"%d,%d,7","payload":{"text":"bench memory %d about topic %d"}}', counter, math.random(1, 1000000), counter, counter % 97)
  return wrk.format("POST", "/v1/memories", {["Content-Type"] = "application/json"}, body)
end
