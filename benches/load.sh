#!/usr/bin/env bash
# Side-by-side load benchmark: vhod and node-oidc-provider on the same machine, each
# server pinned to core 0 and the load generator (wrk, or the flow driver) to core 1.
# It measures; it does not test. See benches/README.md.
#
#   bash benches/load.sh [--duration SECONDS] [--flows N] [--rounds R] [--warmup N]
#                        [--only vhod|node]
set -euo pipefail
cd "$(dirname "$0")"
HERE=$(pwd)
export BENCH_LUA_DIR="$HERE"
DURATION=10
FLOWS=200
ROUNDS=3
# Flows each server runs before any flow round is measured: node-oidc-provider's CPU per flow
# falls for its first 600-800 flows as its JIT compiler warms up, and the target compares
# with the server at its steady state.
WARMUP=1000
ONLY=""
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION=$2; shift 2 ;;
    --flows) FLOWS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
for n in "$DURATION" "$FLOWS" "$ROUNDS" "$WARMUP"; do
  case "$n" in *[!0-9]*|"") echo "--duration, --flows, --rounds and --warmup take whole numbers" >&2; exit 2 ;; esac
done
[ "$ROUNDS" -ge 1 ] || { echo "--rounds must be at least 1" >&2; exit 2; }
case "$ONLY" in ""|vhod|node) ;; *) echo "--only takes vhod or node" >&2; exit 2 ;; esac

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vhod-target}"
OUT="$HERE/out"; mkdir -p "$OUT"; rm -f "$OUT"/*.json "$OUT"/*.flows "$OUT"/*.cc
WORK=$(mktemp -d); PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
trap cleanup EXIT

need() { command -v "$1" >/dev/null 2>&1; }
if ! need wrk; then apt-get update -qq && apt-get install -y -qq wrk >/dev/null; fi
if ! need taskset; then apt-get update -qq && apt-get install -y -qq util-linux >/dev/null; fi
if [ "$ONLY" != vhod ]; then
  need node || { echo "node (>= 20.19) is needed for node-oidc-provider and the flow driver" >&2; exit 1; }
  if [ ! -d node-op/node_modules/oidc-provider ]; then (cd node-op && npm ci --no-audit --no-fund >/dev/null); fi
fi
need node || { echo "node (>= 20) is needed for the flow driver (benches/flow.mjs)" >&2; exit 1; }
[ "$ONLY" = node ] || (cd .. && cargo build --release --quiet)
VHOD="$CARGO_TARGET_DIR/release/vhod"
TICK=$(getconf CLK_TCK)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
rss_kb() { awk '/VmRSS/{print $2}' "/proc/$1/status"; }
wait_up() { # ISSUER LOG: waits for discovery to answer with the expected issuer
  for _ in $(seq 150); do
    if curl -sf -m 2 "$1/.well-known/openid-configuration" | grep -q "\"issuer\":\"$1\""; then return 0; fi
    sleep 0.1
  done
  echo "server at $1 did not start (or its discovery names another issuer); log:" >&2; tail -20 "$2" >&2; exit 1
}
rps() { awk '/Requests\/sec/{print $2}'; }
# openssl's ECDSA P-256 signs/s on core 0, the anchor of the client_credentials target.
ecdsa_rate() {
  local x; x=$(taskset -c 0 openssl speed -seconds 2 ecdsap256 2>/dev/null | awk '/256 bits ecdsa/{print $(NF-1)}')
  [ -n "$x" ] || { echo "openssl speed ecdsap256 printed no signing rate" >&2; exit 1; }
  echo "$x"
}

# wrk against URL with a lua script (GET or the client_credentials POST); prints
# "REQ_PER_S NON200 SOCKET_ERRORS". Non-200 answers and socket errors are counted and
# reported (warned about here, and shown in the table), never silently folded into req/s.
load() {
  local url=$1 script=$2
  local out; out=$(timeout $((DURATION + 30)) taskset -c 1 wrk -t1 -c32 -d"${DURATION}s" --timeout 5s -s "$script" "$url")
  local bad; bad=$(awk '/^non200 /{print $2}' <<<"$out"); bad=${bad:-0}
  local sock; sock=$(awk '/Socket errors/{n=0; for (i=1; i<=NF; i++) if ($i ~ /^[0-9]+,?$/) n+=$i; print n}' <<<"$out"); sock=${sock:-0}
  if [ "$bad" != 0 ] || [ "$sock" != 0 ]; then echo "WARNING: $url: $bad non-200 answers, $sock socket errors" >&2; fi
  echo "$(rps <<<"$out") $bad $sock"
}

# measure NAME ISSUER PID CC_ID CC_SECRET CC_BODY WEB_ID WEB_SECRET LOGIN PASSWORD HASHED
measure() {
  local name=$1 iss=$2 pid=$3 ccid=$4 ccsec=$5 ccbody=$6 webid=$7 websec=$8 login=$9 pw=${10} hashed=${11}
  sleep 2
  local idle; idle=$(rss_kb "$pid")
  export BENCH_BASIC; BENCH_BASIC=$(printf '%s:%s' "$ccid" "$ccsec" | base64 -w0)
  export BENCH_BODY=$ccbody
  local first; first=$(curl -s -m 10 -u "$ccid:$ccsec" -d "$ccbody" "$iss/token")
  # One grant first: it must be an ES256-signed JWT (three parts, header alg ES256).
  if ! python3 -c '
import base64, json, sys
t = json.loads(sys.argv[1])["access_token"]; parts = t.split(".")
assert len(parts) == 3, "not a JWT"
h = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
assert h.get("alg") == "ES256", "alg %s" % h.get("alg")
' "$first" 2>/dev/null; then echo "$name: client_credentials did not return an ES256 JWT access token: $first" >&2; exit 1; fi
  local peak=0
  ( while kill -0 "$pid" 2>/dev/null; do r=$(rss_kb "$pid"); echo "$r"; sleep 0.2; done ) > "$WORK/$name.rss" &
  local sampler=$!
  # client_credentials in rounds, each between two measurements of the anchor (openssl's
  # ECDSA P-256 signing rate on the same core): the shared machine's speed drifts by several
  # per cent within a minute, so each round is compared with the anchor measured beside it.
  # node-oidc-provider's rate is information only (one round).
  # Non-200 answers and socket errors are summed over the rounds.
  local cc r a b cc_rounds=$ROUNDS cc_bad=0 cc_sock=0
  [ "$name" = node ] && cc_rounds=1
  for r in $(seq "$cc_rounds"); do
    a=$(ecdsa_rate)
    cc=$(load "$iss/token" "$HERE/cc.lua")
    b=$(ecdsa_rate)
    set -- $cc
    echo "$1 $a $b" >> "$OUT/$name.cc"
    cc_bad=$((cc_bad + $2)); cc_sock=$((cc_sock + $3))
  done
  set -- $cc
  cc="$1 $cc_bad $cc_sock"
  stop "$sampler"
  peak=$(sort -n "$WORK/$name.rss" | tail -1)
  local jwks_uri; jwks_uri=$(curl -s -m 5 "$iss/.well-known/openid-configuration" | python3 -c 'import json,sys; print(json.load(sys.stdin)["jwks_uri"])')
  local jwks; jwks=$(load "$jwks_uri" "$HERE/get.lua")
  local disc; disc=$(load "$iss/.well-known/openid-configuration" "$HERE/get.lua")
  set -- $cc $jwks $disc
  printf '{"cc_rps": %s, "cc_non200": %s, "cc_socket_errors": %s, "jwks_rps": %s, "jwks_non200": %s, "jwks_socket_errors": %s, "discovery_rps": %s, "discovery_non200": %s, "discovery_socket_errors": %s, "rss_idle_kb": %s, "rss_load_kb": %s}\n' \
    "$@" "$idle" "$peak" > "$OUT/$name.json"
  # The same warm-up for both servers, before any flow round is measured.
  [ "$WARMUP" = 0 ] || timeout $((60 + WARMUP / 10)) taskset -c 1 node "$HERE/flow.mjs" "$iss" "$webid" "$websec" http://127.0.0.1:9/cb "$login" "$pw" "$WARMUP" >/dev/null
}

# flow_round NAME ISSUER PID WEB_ID WEB_SECRET LOGIN PASSWORD CHECK: server CPU over FLOWS
# full code flows, and how much of it the password checks took (subtracted where the server
# hashes passwords; CHECK says where it counts them: vhod, node or no); appends
# "FLOW_MS HASH_MS" to $OUT/NAME.flows.
flow_round() {
  local name=$1 iss=$2 pid=$3 webid=$4 websec=$5 login=$6 pw=$7 check=$8
  hash_cpu() {
    case "$check" in
      vhod) curl -s -m 5 "$iss/metrics" | awk '/^vhod_password_check_cpu_seconds_total/{print $2}' ;;
      node) curl -s -m 5 "$iss/bench/password-check-cpu" ;;
    esac
  }
  local h0=0 h1=0
  [ "$check" = no ] || h0=$(hash_cpu)
  local t0; t0=$(cpu_ticks "$pid")
  timeout $((60 + FLOWS)) taskset -c 1 node "$HERE/flow.mjs" "$iss" "$webid" "$websec" http://127.0.0.1:9/cb "$login" "$pw" "$FLOWS" >/dev/null
  local t1; t1=$(cpu_ticks "$pid")
  [ "$check" = no ] || h1=$(hash_cpu)
  python3 -c "print(($t1-$t0)*1000/$TICK/$FLOWS, ($h1-$h0)*1000/$FLOWS)" >> "$OUT/$name.flows"
}

if [ "$ONLY" != node ]; then
  PORT=$(free_port); ISS="http://127.0.0.1:$PORT"; DATA="$WORK/vhod"
  # vhod's admin commands, each failing loudly with its own output.
  v() { local o; if ! o=$("$VHOD" "$@" 2>"$WORK/cmd.err"); then echo "vhod $1 $2 failed:" >&2; cat "$WORK/cmd.err" >&2; exit 1; fi; printf '%s' "$o"; }
  v migrate --data-dir "$DATA" >/dev/null
  CC=$(v clients add --data-dir "$DATA" --name bench-cc --grant-type client_credentials --scope "profile email" --json)
  # The code-flow client as node-oidc-provider's is configured: authorization_code only, so
  # neither server issues a refresh token.
  WEB=$(v clients add --data-dir "$DATA" --name bench-web --redirect-uri http://127.0.0.1:9/cb --grant-type authorization_code --json)
  v users add --data-dir "$DATA" --login alice --password-stdin --email alice@example.com --name "Alice Example" <<<'bench password, long enough' >/dev/null
  # A second account whose stored hash is argon2id at 64 KiB and one pass (information only):
  # its flows show what the rest of the flow costs when the password check does not walk
  # 19 MiB of memory and evict the server's code and data from the caches on the way.
  python3 -c 'import argon2' 2>/dev/null || pip install -q argon2-cffi >/dev/null
  v users add --data-dir "$DATA" --login bob --password-stdin --name "Bob Example" <<<'bench password, long enough' >/dev/null
  python3 - "$DATA/vhod.db" <<'PY'
import argon2, sqlite3, sys
light = argon2.PasswordHasher(time_cost=1, memory_cost=64, parallelism=1).hash("bench password, long enough")
db = sqlite3.connect(sys.argv[1])
assert db.execute("UPDATE accounts SET password_hash = ? WHERE login = 'bob'", (light,)).rowcount == 1
db.commit()
PY
  j() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
  # The flows come from one address, thousands a minute: the per-address limit on
  # authorization requests (300 a minute by default) is raised out of their way, not turned
  # off, so each flow still pays for its count.
  VHOD_LOG=warn VHOD_LISTEN="127.0.0.1:$PORT" VHOD_AUTHORIZATION_REQUESTS_PER_MINUTE=100000000 \
    taskset -c 0 "$VHOD" serve --data-dir "$DATA" >"$WORK/vhod.log" 2>&1 &
  VPID=$!; PIDS+=("$VPID"); wait_up "$ISS" "$WORK/vhod.log"
  VISS=$ISS; VWEB_ID=$(j client_id <<<"$WEB"); VWEB_SECRET=$(j client_secret <<<"$WEB")
  measure vhod "$ISS" "$VPID" "$(j client_id <<<"$CC")" "$(j client_secret <<<"$CC")" "grant_type=client_credentials&scope=profile" \
    "$VWEB_ID" "$VWEB_SECRET" alice 'bench password, long enough' yes
fi

if [ "$ONLY" != vhod ]; then
  PORT=$(free_port); ISS="http://127.0.0.1:$PORT"
  # The subshell execs taskset, which execs node: $! is node's own pid.
  (cd node-op && NODE_ENV=production PORT=$PORT exec taskset -c 0 node server.mjs) >"$WORK/node.log" 2>&1 &
  NPID=$!; PIDS+=("$NPID"); wait_up "$ISS" "$WORK/node.log"
  [ "$(cat /proc/$NPID/comm)" = node ] || { echo "pid $NPID is not node" >&2; exit 1; }
  NISS=$ISS
  measure node "$ISS" "$NPID" cc cc-secret-0123456789abcdef0123456789abcdef "grant_type=client_credentials&scope=api" \
    web web-secret-0123456789abcdef0123456789abcdef alice anything no
fi

# The code flows in alternating rounds (vhod, node, vhod, node, ...), both servers up and
# the one not driven idle: a slow spell of the shared machine then falls on both sides of
# a round, and the figures are the medians over the rounds.
for _ in $(seq "$ROUNDS"); do
  [ "$ONLY" = node ] || flow_round vhod "$VISS" "$VPID" "$VWEB_ID" "$VWEB_SECRET" alice 'bench password, long enough' vhod
  [ "$ONLY" = node ] || flow_round vhod-light "$VISS" "$VPID" "$VWEB_ID" "$VWEB_SECRET" bob 'bench password, long enough' vhod
  [ "$ONLY" = vhod ] || flow_round node "$NISS" "$NPID" web web-secret-0123456789abcdef0123456789abcdef alice anything no
  # node-oidc-provider's login checking carol's password with argon2id (information only).
  [ "$ONLY" = vhod ] || flow_round node-check "$NISS" "$NPID" web web-secret-0123456789abcdef0123456789abcdef carol 'bench password, long enough' node
done
[ "$ONLY" = node ] || stop "$VPID"
[ "$ONLY" = vhod ] || stop "$NPID"

python3 - "$OUT" <<'PY'
import json, os, sys
out = sys.argv[1]
def load(n):
    f = os.path.join(out, f"{n}.json")
    return json.load(open(f)) if os.path.exists(f) else None
v, n = load("vhod"), load("node")
def rounds(name, ext="flows"):
    f = os.path.join(out, f"{name}.{ext}")
    return [tuple(map(float, l.split())) for l in open(f)] if os.path.exists(f) else []
def median(xs):
    xs = sorted(xs); k = len(xs) // 2
    return xs[k] if len(xs) % 2 else (xs[k - 1] + xs[k]) / 2
# client_credentials rounds: (grants/s, anchor before, anchor after). Each round's ratio is
# against the mean of the anchor measured just before and just after it; the target's
# figure is the median of those ratios, and the rates shown are the medians.
cc_ratios, anchors = {}, []
for name, d in (("vhod", v), ("node", n)):
    cr = rounds(name, "cc")
    if d and cr:
        d["cc_rps_rounds"] = [c for c, _, _ in cr]
        d["cc_rps"] = median(d["cc_rps_rounds"])
        d["cc_anchor_rounds"] = [(a + b) / 2 for _, a, b in cr]
        cc_ratios[name] = [c / ((a + b) / 2) for c, a, b in cr]
        anchors += [x for _, a, b in cr for x in (a, b)]
ecdsa = median(anchors)
vr, nr = rounds("vhod"), rounds("node")
for d, r in ((v, vr), (n, nr)):
    if d and r:
        d["flow_cpu_ms_rounds"] = [f for f, _ in r]
        d["flow_cpu_ms_excl_hash_rounds"] = [max(f - h, 0) for f, h in r]
        d["flow_cpu_ms"] = median(d["flow_cpu_ms_rounds"])
        d["password_check_cpu_ms"] = median([h for _, h in r])
        d["flow_cpu_ms_excl_hash"] = median(d["flow_cpu_ms_excl_hash_rounds"])
# The flow ratio of each round (vhod's CPU excluding its password checks / node's), and
# their median: the target's figure.
flow_ratios = [a / b for a, b in zip(v["flow_cpu_ms_excl_hash_rounds"], n["flow_cpu_ms_rounds"])] if v and n and vr and nr else []
print(f"\nmachine: openssl ECDSA P-256 sign/s on one core (core 0), median of {len(anchors)} measurements beside the client_credentials rounds: {ecdsa:.0f} (from {min(anchors):.0f} to {max(anchors):.0f})\n")
rows = [("JWT client_credentials grants/s", "cc_rps"), ("  non-200 answers / socket errors", "cc_err"),
        ("JWKS req/s", "jwks_rps"), ("  non-200 answers / socket errors", "jwks_err"),
        ("discovery req/s", "discovery_rps"), ("  non-200 answers / socket errors", "discovery_err"),
        ("server CPU ms per full code flow", "flow_cpu_ms"), ("  of which password check (argon2)", "password_check_cpu_ms"),
        ("  excl. password check", "flow_cpu_ms_excl_hash"),
        ("RSS idle MB", "rss_idle_mb"), ("RSS peak under load MB", "rss_load_mb")]
for d in (v, n):
    if d:
        for k in ("cc", "jwks", "discovery"): d[f"{k}_err"] = f'{d[f"{k}_non200"]} / {d[f"{k}_socket_errors"]}'
        d["rss_idle_mb"] = d["rss_idle_kb"] / 1024; d["rss_load_mb"] = d["rss_load_kb"] / 1024
fmt = lambda x: "-" if x is None else (f"{x:.2f}" if isinstance(x, float) else str(x))
print(f"{'metric':38} | {'vhod':>12} | {'node-oidc-provider':>18} | {'ratio v/n':>9}")
print(f"{'-'*38}-+-{'-'*12}-+-{'-'*18}-+-{'-'*9}")
for label, k in rows:
    a = v.get(k) if v else None; b = n.get(k) if n else None
    ratio = f"{a/b:.2f}" if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b else "-"
    print(f"{label:38} | {fmt(a):>12} | {fmt(b):>18} | {ratio:>9}")
targets = []  # (label, value, met; None = information only)
if v:
    cr = median(cc_ratios["vhod"])
    targets.append((f"vhod client_credentials >= 0.5 x openssl ECDSA P-256 sign/s (ratio to the anchor beside each round; median of {', '.join(f'{x:.3f}' for x in cc_ratios['vhod'])})", cr, cr >= 0.5))
    targets.append(("vhod idle RSS < 30 MB", v["rss_idle_mb"], v["rss_idle_kb"] < 30 * 1024))
if v and n:
    targets.append(("vhod JWKS >= 3x node", v["jwks_rps"] / n["jwks_rps"], v["jwks_rps"] >= 3 * n["jwks_rps"]))
    targets.append(("vhod discovery >= 3x node", v["discovery_rps"] / n["discovery_rps"], v["discovery_rps"] >= 3 * n["discovery_rps"]))
    fr = median(flow_ratios)
    targets.append((f"vhod CPU per flow excl. the password hash <= 1/6 of node (ratio <= 0.167; median of the rounds' {', '.join(f'{x:.3f}' for x in flow_ratios)})", fr, fr <= 1 / 6))
    targets.append(("(info) same ratio including vhod's argon2id check", v["flow_cpu_ms"] / n["flow_cpu_ms"], None))
    lr = rounds("vhod-light")
    if lr and nr:
        v["light_account_flow_cpu_ms_excl_hash_rounds"] = [max(f - h, 0) for f, h in lr]
        light = [a / b[0] for a, b in zip(v["light_account_flow_cpu_ms_excl_hash_rounds"], nr)]
        targets.append((f"(info) same ratio for an account hashed with argon2id at 64 KiB, one pass ({median(v['light_account_flow_cpu_ms_excl_hash_rounds']):.2f} ms; median of {', '.join(f'{x:.3f}' for x in light)})", median(light), None))
    cr_ = rounds("node-check")
    if cr_ and vr:
        n["checked_login_flow_cpu_ms_excl_hash_rounds"] = [max(f - h, 0) for f, h in cr_]
        n["checked_login_password_check_cpu_ms"] = median([h for _, h in cr_])
        like = [a / b for a, b in zip(v["flow_cpu_ms_excl_hash_rounds"], n["checked_login_flow_cpu_ms_excl_hash_rounds"])]
        targets.append((f"(info) vhod / node-oidc-provider whose login checks an argon2id hash of the same parameters, each excl. its checks (node {median(n['checked_login_flow_cpu_ms_excl_hash_rounds']):.2f} ms + {n['checked_login_password_check_cpu_ms']:.2f} ms check; median of {', '.join(f'{x:.3f}' for x in like)})", median(like), None))
    targets.append(("(info) client_credentials vhod / node", v["cc_rps"] / n["cc_rps"], None))
print()
for label, value, ok in targets:
    print(f"{'INFO' if ok is None else 'PASS' if ok else 'MISS'}  {label}: {value:.3f}")
for name, d in (("vhod", v), ("node", n)):
    if d and any(d[f"{k}_non200"] or d[f"{k}_socket_errors"] for k in ("cc", "jwks", "discovery")):
        print(f"WARNING: {name} had non-200 answers or socket errors; its req/s include them")
for d in (v, n):
    if d:
        for k in ("cc_err", "jwks_err", "discovery_err", "rss_idle_mb", "rss_load_mb"): d.pop(k)
json.dump({"ecdsa_p256_sign_per_s": ecdsa, "vhod": v, "node": n,
           "targets": [{"target": l, "value": x, "met": ok} for l, x, ok in targets]},
          open(os.path.join(out, "results.json"), "w"), indent=2)
print(f"\nwritten: {os.path.join(out, 'results.json')}")
PY
