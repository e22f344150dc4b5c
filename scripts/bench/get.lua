-- GET /v1/memories/{coord} for one of the 10,000 loaded memories.
request = function()
  local i = math.random(0, 9999)
  return wrk.format("GET", string.format("/v1/memories/%d,%d", i % 100, math.floor(i / 100)))
end
