#!/usr/bin/env bash
# Runs oidcc-basic-certification-test-plan against a freshly started vhod.
# Usage: conformance/selftest.sh [extra runner args, e.g. --module oidcc-server]
# Needs: cargo, jq. Builds `vhod` (release) and the runner; the last line printed is the
# runner's "N passed, N failed"; the exit status is the runner's.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vhod-target}"
cargo build --release -p vhod >&2
cargo build -p conformance >&2
VHOD="$CARGO_TARGET_DIR/release/vhod"
RUNNER="$CARGO_TARGET_DIR/debug/conformance"

DIR=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ISSUER="http://127.0.0.1:$PORT"
VHOD_LISTEN="127.0.0.1:$PORT" "$VHOD" serve --data-dir "$DIR" >"$DIR/vhod.log" 2>&1 &
VHOD_PID=$!
cleanup() { kill "$VHOD_PID" 2>/dev/null || true; wait "$VHOD_PID" 2>/dev/null || true; rm -rf "$DIR"; }
trap cleanup EXIT

for _ in $(seq 1 100); do
  if [ "$(curl -s -o /dev/null -w '%{http_code}' "$ISSUER/readyz")" = 200 ]; then break; fi
  sleep 0.1
done

add_client() { # name [extra args]
  local name=$1; shift
  "$VHOD" clients add --data-dir "$DIR" --name "$name" --redirect-uri http://127.0.0.1:9/cb \
    --grant-type authorization_code --grant-type refresh_token --json "$@" 2>/dev/null
}
C1=$(add_client conf)
C2=$(add_client conf2)
CP=$(add_client conf-post --auth-method client_secret_post)
PASSWORD='long enough password'
echo "$PASSWORD" | "$VHOD" users add --data-dir "$DIR" --login alice --password-stdin \
  --email alice@example.com --phone +79990001122 --name "Alice Example" >/dev/null 2>&1

client() { # json auth_method
  jq -c --arg m "$2" '{client_id, client_secret, redirect_uri: "http://127.0.0.1:9/cb", auth_method: $m}' <<<"$1"
}
jq -n --argjson c1 "$(client "$C1" client_secret_basic)" --argjson c2 "$(client "$C2" client_secret_basic)" \
  --argjson cp "$(client "$CP" client_secret_post)" --arg pw "$PASSWORD" \
  '{client: $c1, client2: $c2, post_client: $cp, user: {login: "alice", password: $pw},
    browser: {login_field: "login", password_field: "password", approve_values: ["allow"]}}' >"$DIR/config.json"

set +e
"$RUNNER" --issuer "$ISSUER" --config "$DIR/config.json" --plan oidcc-basic-certification-test-plan \
  --out target/conformance "$@" | tee "$DIR/out.txt" | grep -v ' passed, .* failed$'
STATUS=${PIPESTATUS[0]}
tail -n 1 "$DIR/out.txt"
exit "$STATUS"
