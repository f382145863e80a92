#!/usr/bin/env bash
# Side-by-side load benchmark: vhod and node-oidc-provider on the same machine, each
# server pinned to core 0 and the load generator (wrk, or the flow driver) to core 1.
# It measures; it does not test. See benches/README.md.
#
#   bash benches/load.sh [--duration SECONDS] [--flows N] [--only vhod|node]
set -euo pipefail
cd "$(dirname "$0")"
HERE=$(pwd)
DURATION=10
FLOWS=200
ONLY=""
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION=$2; shift 2 ;;
    --flows) FLOWS=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vhod-target}"
OUT="$HERE/out"; mkdir -p "$OUT"; rm -f "$OUT"/*.json
WORK=$(mktemp -d); PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

need() { command -v "$1" >/dev/null 2>&1; }
if ! need wrk; then apt-get update -qq && apt-get install -y -qq wrk >/dev/null; fi
if ! need taskset; then apt-get update -qq && apt-get install -y -qq util-linux >/dev/null; fi
if [ ! -d node-op/node_modules/oidc-provider ]; then (cd node-op && npm ci --no-audit --no-fund >/dev/null); fi
(cd .. && cargo build --release --quiet)
VHOD="$CARGO_TARGET_DIR/release/vhod"
TICK=$(getconf CLK_TCK)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
rss_kb() { awk '/VmRSS/{print $2}' "/proc/$1/status"; }
wait_up() { for _ in $(seq 100); do curl -sf "$1/.well-known/openid-configuration" >/dev/null && return 0; sleep 0.1; done; echo "server at $1 did not start" >&2; exit 1; }
rps() { awk '/Requests\/sec/{print $2}'; }

# wrk against URL with optional lua; prints req/s; fails loudly on non-200 answers.
load() {
  local url=$1 script=${2:-}
  local args=(-t1 -c32 -d"${DURATION}s")
  [ -n "$script" ] && args+=(-s "$script")
  local out; out=$(taskset -c 1 wrk "${args[@]}" "$url")
  local bad; bad=$(awk '/non200/{print $2}' <<<"$out"); bad=${bad:-0}
  local errs; errs=$(awk '/Non-2xx/{print $4}' <<<"$out"); errs=${errs:-0}
  if [ "$bad" != "0" ] || [ "$errs" != "0" ]; then echo "load on $url got non-200 answers: $out" >&2; exit 1; fi
  rps <<<"$out"
}

# measure NAME ISSUER PID CC_ID CC_SECRET CC_BODY WEB_ID WEB_SECRET LOGIN PASSWORD HASHED
measure() {
  local name=$1 iss=$2 pid=$3 ccid=$4 ccsec=$5 ccbody=$6 webid=$7 websec=$8 login=$9 pw=${10} hashed=${11}
  sleep 2
  local idle; idle=$(rss_kb "$pid")
  export BENCH_BASIC; BENCH_BASIC=$(printf '%s:%s' "$ccid" "$ccsec" | base64 -w0)
  export BENCH_BODY=$ccbody
  local first; first=$(curl -s -u "$ccid:$ccsec" -d "$ccbody" "$iss/token")
  if ! grep -q '"access_token":"[^".]*\.[^".]*\.[^"]*"' <<<"$first"; then echo "$name: client_credentials did not return a JWT: $first" >&2; exit 1; fi
  local peak=0
  ( while kill -0 "$pid" 2>/dev/null; do r=$(rss_kb "$pid"); echo "$r"; sleep 0.2; done ) > "$WORK/$name.rss" &
  local sampler=$!
  local cc; cc=$(load "$iss/token" "$HERE/cc.lua")
  kill "$sampler" 2>/dev/null || true
  peak=$(sort -n "$WORK/$name.rss" | tail -1)
  local jwks; jwks=$(load "$iss/jwks")
  local disc; disc=$(load "$iss/.well-known/openid-configuration")
  # CPU per full flow, and per password check (subtracted where the server hashes passwords).
  taskset -c 1 node "$HERE/flow.mjs" "$iss" "$webid" "$websec" http://127.0.0.1:9/cb "$login" "$pw" 5 >/dev/null
  hash_cpu() { curl -s "$iss/metrics" | awk '/^vhod_password_check_cpu_seconds_total/{print $2}'; }
  local h0=0 h1=0
  [ "$hashed" = yes ] && h0=$(hash_cpu)
  local t0; t0=$(cpu_ticks "$pid")
  taskset -c 1 node "$HERE/flow.mjs" "$iss" "$webid" "$websec" http://127.0.0.1:9/cb "$login" "$pw" "$FLOWS" >/dev/null
  local t1; t1=$(cpu_ticks "$pid")
  [ "$hashed" = yes ] && h1=$(hash_cpu)
  local hash_ms; hash_ms=$(python3 -c "print(($h1-$h0)*1000/$FLOWS)")
  local flow_ms; flow_ms=$(python3 -c "print(($t1-$t0)*1000/$TICK/$FLOWS)")
  local net_ms; net_ms=$(python3 -c "print(max($flow_ms-$hash_ms, 0))")
  printf '{"cc_rps": %s, "jwks_rps": %s, "discovery_rps": %s, "flow_cpu_ms": %s, "password_check_cpu_ms": %s, "flow_cpu_ms_excl_hash": %s, "rss_idle_kb": %s, "rss_load_kb": %s}\n' \
    "$cc" "$jwks" "$disc" "$flow_ms" "$hash_ms" "$net_ms" "$idle" "$peak" > "$OUT/$name.json"
}

if [ "$ONLY" != node ]; then
  PORT=$(free_port); ISS="http://127.0.0.1:$PORT"; DATA="$WORK/vhod"
  "$VHOD" migrate --data-dir "$DATA" >/dev/null 2>&1
  CC=$("$VHOD" clients add --data-dir "$DATA" --name bench-cc --grant-type client_credentials --scope "profile email" --json 2>/dev/null)
  WEB=$("$VHOD" clients add --data-dir "$DATA" --name bench-web --redirect-uri http://127.0.0.1:9/cb --json 2>/dev/null)
  echo 'bench password, long enough' | "$VHOD" users add --data-dir "$DATA" --login alice --password-stdin --email alice@example.com --name "Alice Example" >/dev/null 2>&1
  j() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
  VHOD_LOG=warn VHOD_LISTEN="127.0.0.1:$PORT" taskset -c 0 "$VHOD" serve --data-dir "$DATA" >"$WORK/vhod.log" 2>&1 &
  VPID=$!; PIDS+=("$VPID"); wait_up "$ISS"
  measure vhod "$ISS" "$VPID" "$(j client_id <<<"$CC")" "$(j client_secret <<<"$CC")" "grant_type=client_credentials&scope=profile" \
    "$(j client_id <<<"$WEB")" "$(j client_secret <<<"$WEB")" alice 'bench password, long enough' yes
  kill "$VPID"
fi

if [ "$ONLY" != vhod ]; then
  PORT=$(free_port); ISS="http://127.0.0.1:$PORT"
  (cd node-op && NODE_ENV=production PORT=$PORT exec taskset -c 0 node server.mjs) >"$WORK/node.log" 2>&1 &
  NPID=$!; PIDS+=("$NPID"); wait_up "$ISS"
  NPID=$(pgrep -f "node server.mjs" -n)
  measure node "$ISS" "$NPID" cc cc-secret-0123456789abcdef0123456789abcdef "grant_type=client_credentials&scope=api" \
    web web-secret-0123456789abcdef0123456789abcdef alice anything no
  kill "$NPID"
fi

ECDSA=$(taskset -c 0 openssl speed -seconds 3 ecdsap256 2>/dev/null | awk '/256 bits ecdsa/{print $(NF-1)}')
python3 - "$OUT" "$ECDSA" <<'PY'
import json, os, sys
out, ecdsa = sys.argv[1], float(sys.argv[2])
load = lambda n: json.load(open(os.path.join(out, f"{n}.json"))) if os.path.exists(os.path.join(out, f"{n}.json")) else None
v, n = load("vhod"), load("node")
print(f"machine: openssl ECDSA P-256 sign/s on one core: {ecdsa:.0f}")
rows = [("JWT client_credentials req/s", "cc_rps"), ("JWKS req/s", "jwks_rps"), ("discovery req/s", "discovery_rps"),
        ("CPU ms per full code flow", "flow_cpu_ms"), ("  of which password check", "password_check_cpu_ms"),
        ("CPU ms per flow excl. password hash", "flow_cpu_ms_excl_hash"), ("RSS idle KB", "rss_idle_kb"), ("RSS under load KB", "rss_load_kb")]
print(f"{'metric':38} {'vhod':>12} {'node-oidc-provider':>20} {'vhod/node':>10}")
for label, k in rows:
    a = v[k] if v else None; b = n[k] if n else None
    ratio = f"{a/b:.2f}" if a is not None and b else "-"
    fa = f"{a:.2f}" if isinstance(a, float) else str(a); fb = f"{b:.2f}" if isinstance(b, float) else str(b)
    print(f"{label:38} {fa:>12} {fb:>20} {ratio:>10}")
targets = []
if v:
    targets.append(("vhod client_credentials >= 0.5 x ECDSA sign rate", v["cc_rps"] / ecdsa, v["cc_rps"] >= 0.5 * ecdsa))
    targets.append(("vhod idle RSS < 30 MB", v["rss_idle_kb"] / 1024, v["rss_idle_kb"] < 30 * 1024))
if v and n:
    targets.append(("JWKS >= 3x node", v["jwks_rps"] / n["jwks_rps"], v["jwks_rps"] >= 3 * n["jwks_rps"]))
    targets.append(("discovery >= 3x node", v["discovery_rps"] / n["discovery_rps"], v["discovery_rps"] >= 3 * n["discovery_rps"]))
    targets.append(("flow CPU excl. hash <= 1/6 of node", v["flow_cpu_ms_excl_hash"] / n["flow_cpu_ms"], v["flow_cpu_ms_excl_hash"] <= n["flow_cpu_ms"] / 6))
    targets.append(("client_credentials vs node", v["cc_rps"] / n["cc_rps"], True))
print()
for label, value, ok in targets:
    print(f"{'PASS' if ok else 'MISS'}  {label}: {value:.2f}")
json.dump({"ecdsa_p256_sign_per_s": ecdsa, "vhod": v, "node": n, "targets": [{"target": l, "value": x, "met": ok} for l, x, ok in targets]},
          open(os.path.join(out, "results.json"), "w"), indent=2)
PY
