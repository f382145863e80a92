-- wrk: POST a client_credentials grant with HTTP Basic client authentication; counts
-- non-200 answers so a broken setup cannot pass for a fast one.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. os.getenv("BENCH_BASIC")
wrk.body = os.getenv("BENCH_BODY") or "grant_type=client_credentials"
local bad = 0
response = function(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("non200 %d\n", bad))
end
