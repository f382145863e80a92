#!/usr/bin/env bash
# Runs every plan the conformance runner implements against a freshly started vhod, served
# over TLS (a throw-away CA from conformance/tls.sh) with its embedded defaults: SQLite and
# the in-process cache; with --postgres, PostgreSQL ($VHOD_TEST_DATABASE_URL, a fresh
# database dropped afterwards) and Redis ($VHOD_TEST_REDIS_URL) instead.
# Usage: conformance/selftest.sh [--postgres] [extra runner args, e.g. --module oidcc-server]
# Writes target/conformance/report.{json,html} (target/conformance/postgres/ with
# --postgres). Needs cargo, jq, openssl, curl. The last line printed is the runner's
# "N passed, N failed"; the exit status is the runner's.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vhod-target}"
OUT=target/conformance
BACKEND=sqlite
if [ "${1:-}" = "--postgres" ]; then
  BACKEND=postgres
  OUT=target/conformance/postgres
  shift
fi
cargo build --release -p vhod >&2
cargo build -p conformance >&2
VHOD="$CARGO_TARGET_DIR/release/vhod"
RUNNER="$CARGO_TARGET_DIR/debug/conformance"

DIR=$(mktemp -d)
DB=""
VHOD_PID=""
cleanup() {
  if [ -n "$VHOD_PID" ]; then kill "$VHOD_PID" 2>/dev/null || true; wait "$VHOD_PID" 2>/dev/null || true; fi
  if [ -n "$DB" ]; then psql "$PG_ADMIN" -qc "drop database if exists \"$DB\"" >/dev/null 2>&1 || true; fi
  rm -rf "$DIR"
}
trap cleanup EXIT

if [ "$BACKEND" = postgres ]; then
  PG_ADMIN="${VHOD_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
  REDIS="${VHOD_TEST_REDIS_URL:-redis://127.0.0.1:6379}"
  DB="vhod_test_selftest_$$_$RANDOM"
  psql "$PG_ADMIN" -qc "create database \"$DB\"" >/dev/null
  export VHOD_DATABASE_URL="${PG_ADMIN%/*}/$DB"
  export VHOD_REDIS_URL="$REDIS"
  export VHOD_REDIS_PREFIX="$DB:"
fi

bash conformance/tls.sh "$DIR"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ISSUER="https://127.0.0.1:$PORT"
VHOD_LISTEN="127.0.0.1:$PORT" VHOD_ISSUER="$ISSUER" VHOD_TLS_CERT="$DIR/tls.pem" VHOD_TLS_KEY="$DIR/tls.key" \
  "$VHOD" serve --data-dir "$DIR" >"$DIR/vhod.log" 2>&1 &
VHOD_PID=$!

for _ in $(seq 1 100); do
  if [ "$(curl -s --cacert "$DIR/ca.pem" -o /dev/null -w '%{http_code}' "$ISSUER/readyz")" = 200 ]; then break; fi
  if ! kill -0 "$VHOD_PID" 2>/dev/null; then cat "$DIR/vhod.log" >&2; echo "selftest: vhod did not start" >&2; exit 1; fi
  sleep 0.1
done

REDIRECT=http://127.0.0.1:9/cb
LOGGED_OUT=http://127.0.0.1:9/logged-out
add_client() { # name [extra args]
  local name=$1; shift
  "$VHOD" clients add --data-dir "$DIR" --name "$name" --redirect-uri "$REDIRECT" \
    --grant-type authorization_code --grant-type refresh_token --json "$@" 2>>"$DIR/cli.log"
}
C1=$(add_client conf --post-logout-redirect-uri "$LOGGED_OUT")
# ID Tokens from the RS256 key; pairwise subject identifiers of a sector of its own.
C2=$(add_client conf2 --id-token-alg RS256 --subject-type pairwise --sector rs.example)
CP=$(add_client conf-post --auth-method client_secret_post)
# Told of logouts at the runner's listener; a client of its own (conformance/src/config.rs),
# with pairwise subject identifiers (sector: the redirect URI's host), so that the back-channel
# plan's logouts, hints and sessions run on a pairwise sub.
BC_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BACKCHANNEL="http://127.0.0.1:$BC_PORT/backchannel_logout"
CB=$(add_client conf-bc --post-logout-redirect-uri "$LOGGED_OUT" --backchannel-logout-uri "$BACKCHANNEL" \
  --subject-type pairwise)
# Loaded by the logout page in an iframe (front-channel logout), at the runner's listener: the
# URI must share a redirect URI's scheme, host and port, so the client has a second one there.
FC_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
FRONTCHANNEL="http://127.0.0.1:$FC_PORT/frontchannel_logout"
CF=$(add_client conf-fc --redirect-uri "http://127.0.0.1:$FC_PORT/cb" --post-logout-redirect-uri "$LOGGED_OUT" \
  --frontchannel-logout-uri "$FRONTCHANNEL" --frontchannel-logout-session-required)
PASSWORD='long enough password'
echo "$PASSWORD" | "$VHOD" users add --data-dir "$DIR" --login alice --password-stdin \
  --email alice@example.com --phone +79990001122 --name "Alice Example" \
  --address "1 Tverskaya St, Moscow 125009, Russia" >/dev/null 2>>"$DIR/cli.log"

client() { # json auth_method
  jq -c --arg m "$2" --arg r "$REDIRECT" '{client_id, client_secret, redirect_uri: $r, auth_method: $m}' <<<"$1"
}
jq -n --argjson c1 "$(client "$C1" client_secret_basic)" --argjson c2 "$(client "$C2" client_secret_basic)" \
  --argjson cp "$(client "$CP" client_secret_post)" --arg pw "$PASSWORD" --arg lo "$LOGGED_OUT" \
  --argjson cb "$(client "$CB" client_secret_basic)" --arg bc "$BACKCHANNEL" \
  --argjson cf "$(client "$CF" client_secret_basic)" --arg fc "$FRONTCHANNEL" \
  '{client: ($c1 + {post_logout_redirect_uri: $lo}), client2: $c2, post_client: $cp,
    backchannel_client: ($cb + {post_logout_redirect_uri: $lo, backchannel_logout_uri: $bc}),
    frontchannel_client: ($cf + {post_logout_redirect_uri: $lo, frontchannel_logout_uri: $fc}),
    user: {login: "alice", password: $pw}, ca_file: "ca.pem",
    browser: {login_field: "login", password_field: "password", approve_values: ["allow"]}}' >"$DIR/config.json"

echo "selftest: vhod ($BACKEND) at $ISSUER" >&2
set +e
"$RUNNER" --issuer "$ISSUER" --config "$DIR/config.json" --plan all --out "$OUT" "$@" |
  tee "$DIR/out.txt" | grep -v ' passed, .* failed$'
STATUS=${PIPESTATUS[0]}
set -e
if grep -q '^FAILED' "$DIR/out.txt"; then
  echo "--- vhod log (last 40 lines) ---" >&2
  tail -n 40 "$DIR/vhod.log" >&2
fi
tail -n 1 "$DIR/out.txt"
exit "$STATUS"
