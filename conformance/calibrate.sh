#!/usr/bin/env bash
# Calibrates the conformance runner against a certified OP: installs node-oidc-provider from
# npm (conformance/calibration), starts it over TLS with a configuration of its own, and runs
# every plan against it. A FAILED module there is a bug in the runner, not in the OP, so this
# script fails when any module FAILS. Writes target/conformance/calibration/report.{json,html}.
# Needs node/npm, cargo, openssl, curl. Last line: the runner's "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vhod-target}"
cargo build -p conformance >&2
RUNNER="$CARGO_TARGET_DIR/debug/conformance"
(cd conformance/calibration && npm ci --no-audit --no-fund --loglevel=error >&2)

DIR=$(mktemp -d)
OP_PID=""
cleanup() {
  if [ -n "$OP_PID" ]; then kill "$OP_PID" 2>/dev/null || true; wait "$OP_PID" 2>/dev/null || true; fi
  rm -rf "$DIR"
}
trap cleanup EXIT
bash conformance/tls.sh "$DIR"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ISSUER="https://127.0.0.1:$PORT"
BC_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BACKCHANNEL="http://127.0.0.1:$BC_PORT/backchannel_logout"
BACKCHANNEL_LOGOUT_URI="$BACKCHANNEL" PORT=$PORT TLS_CERT="$DIR/tls.pem" TLS_KEY="$DIR/tls.key" NODE_ENV=production \
  node conformance/calibration/op.mjs >"$DIR/op.log" 2>&1 &
OP_PID=$!
for _ in $(seq 1 100); do
  if [ "$(curl -s --cacert "$DIR/ca.pem" -o /dev/null -w '%{http_code}' "$ISSUER/.well-known/openid-configuration")" = 200 ]; then break; fi
  if ! kill -0 "$OP_PID" 2>/dev/null; then cat "$DIR/op.log" >&2; echo "calibrate: node-oidc-provider did not start" >&2; exit 1; fi
  sleep 0.1
done

cat >"$DIR/config.json" <<JSON
{
  "client": {"client_id": "conf", "client_secret": "conf-secret-0123456789abcdef0123456789abcdef",
             "redirect_uri": "http://127.0.0.1:9/cb", "auth_method": "client_secret_basic",
             "post_logout_redirect_uri": "http://127.0.0.1:9/logged-out"},
  "client2": {"client_id": "conf2", "client_secret": "conf2-secret-0123456789abcdef0123456789abcdef",
              "redirect_uri": "http://127.0.0.1:9/cb", "auth_method": "client_secret_basic"},
  "post_client": {"client_id": "conf-post", "client_secret": "conf-post-secret-0123456789abcdef0123456789ab",
                  "redirect_uri": "http://127.0.0.1:9/cb", "auth_method": "client_secret_post"},
  "backchannel_client": {"client_id": "conf-bc", "client_secret": "conf-bc-secret-0123456789abcdef0123456789abcd",
                         "redirect_uri": "http://127.0.0.1:9/cb", "auth_method": "client_secret_basic",
                         "post_logout_redirect_uri": "http://127.0.0.1:9/logged-out",
                         "backchannel_logout_uri": "$BACKCHANNEL"},
  "user": {"login": "alice", "password": "any password will do"},
  "ca_file": "ca.pem",
  "browser": {"login_field": "login", "password_field": "password",
              "approve_values": ["allow", "continue"], "logout_values": ["yes"]}
}
JSON

echo "calibrate: node-oidc-provider $(node -p 'require("./conformance/calibration/node_modules/oidc-provider/package.json").version') at $ISSUER" >&2
set +e
"$RUNNER" --issuer "$ISSUER" --config "$DIR/config.json" --plan all --out target/conformance/calibration "$@" |
  tee "$DIR/out.txt" | grep -v ' passed, .* failed$'
STATUS=${PIPESTATUS[0]}
set -e
if [ "$STATUS" -ne 0 ]; then
  echo "--- node-oidc-provider log (last 40 lines) ---" >&2
  tail -n 40 "$DIR/op.log" >&2
fi
tail -n 1 "$DIR/out.txt"
exit "$STATUS"
