-- GET /v1/memories/{coord}, drawn uniformly from the first SOMA_BENCH_MEMORIES loaded memories
-- (bench.sh loads memory i at coordinate i % 100, i // 100; it runs this once over all of them and
-- once over the 10,000 the record cache can hold, the hot set).
local count = tonumber(os.getenv("SOMA_BENCH_MEMORIES") or "10000")
request = function()
  local i = math.random(0, count - 1)
  return wrk.format("GET", string.format("/v1/memories/%d,%d", i % 100, math.floor(i / 100)))
end
