-- wrk: POST a client_credentials grant with HTTP Basic client authentication
-- (BENCH_BASIC = base64 of id:secret, BENCH_BODY = form body); counts non-200 answers.
dofile(os.getenv("BENCH_LUA_DIR") .. "/count.lua")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. os.getenv("BENCH_BASIC")
wrk.body = os.getenv("BENCH_BODY") or "grant_type=client_credentials"
