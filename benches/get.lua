-- wrk: plain GETs (JWKS, discovery); counts non-200 answers.
dofile(os.getenv("BENCH_LUA_DIR") .. "/count.lua")
