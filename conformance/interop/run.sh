#!/usr/bin/env bash
# Interoperability check: runs two independent, unmodified RP libraries against a fresh vhod.
#
#   node/flow.mjs   panva's openid-client (npm)
#   python/flow.py  Authlib (PyPI)
#
# Builds vhod (release), starts it on a free loopback port with a temporary data dir,
# registers a client and a user with the CLI, installs the Node and Python dependencies when
# missing, runs both flows and stops the server. Exits non-zero if either flow fails.
#
# Environment: CARGO_TARGET_DIR is honoured; VHOD_BIN=path skips the build; NODE and PYTHON
# pick the interpreters (default node, python3); INTEROP_KEEP=1 keeps the temp dir.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
NODE="${NODE:-node}"
PYTHON="${PYTHON:-python3}"

say() { echo "interop: $*" >&2; }
die() { say "$*"; exit 1; }

for tool in "$NODE" npm "$PYTHON"; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found"
done

# --- vhod ----------------------------------------------------------------------------------
if [[ -n "${VHOD_BIN:-}" ]]; then
  BIN="$VHOD_BIN"
else
  say "building vhod (release)"
  (cd "$ROOT" && cargo build --release --quiet) || die "cargo build --release failed"
  target="${CARGO_TARGET_DIR:-$ROOT/target}"
  [[ "$target" = /* ]] || target="$ROOT/$target"
  BIN="$target/release/vhod"
fi
[[ -x "$BIN" ]] || die "no vhod binary at $BIN"

# --- dependencies --------------------------------------------------------------------------
if [[ ! -d "$HERE/node/node_modules/openid-client" ]]; then
  say "installing node dependencies (npm ci)"
  (cd "$HERE/node" && npm ci --no-audit --no-fund --loglevel=error >&2) || die "npm ci failed"
fi

VENV="$HERE/python/.venv"
PY="$VENV/bin/python"
STAMP="$VENV/.requirements"
if [[ ! -x "$PY" ]] || ! cmp -s "$HERE/python/requirements.txt" "$STAMP"; then
  say "installing python dependencies (pip install -r requirements.txt)"
  "$PYTHON" -m venv "$VENV" || die "$PYTHON -m venv failed"
  "$PY" -m pip install --quiet --disable-pip-version-check -r "$HERE/python/requirements.txt" >&2 \
    || die "pip install -r requirements.txt failed"
  cp "$HERE/python/requirements.txt" "$STAMP"
fi

# --- server --------------------------------------------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/vhod-interop.XXXXXX")"
DATA="$WORK/data"
LOG="$WORK/vhod.log"
mkdir -p "$DATA"
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ "${INTEROP_KEEP:-}" == 1 ]]; then say "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PORT="$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
ISSUER="http://127.0.0.1:$PORT"
REDIRECT_URI="http://127.0.0.1:9/cb"
LOGIN="alice"
PASSWORD="pass phrase long"

# Its API (RFC 8707), which it may ask access tokens for.
RESOURCE="https://api.interop.example/"
CLIENT_JSON="$("$BIN" clients add --data-dir "$DATA" --name interop --redirect-uri "$REDIRECT_URI" \
  --resource "$RESOURCE" --json)" \
  || die "vhod clients add failed"
read -r CLIENT_ID CLIENT_SECRET < <(printf '%s' "$CLIENT_JSON" |
  "$PYTHON" -c 'import json,sys; d=json.load(sys.stdin); print(d["client_id"], d["client_secret"])') \
  || die "cannot parse client JSON: $CLIENT_JSON"
# A second client, private_key_jwt, whose key also signs its Request Objects (RFC 9101); the
# key pair is made here with WebCrypto, its public half registered with --jwks. It gets signed
# UserInfo Responses and pairwise subject identifiers.
"$NODE" --input-type=module -e '
import { writeFileSync } from "node:fs"
const { subtle } = globalThis.crypto
const kp = await subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])
const { kty, crv, x, y, d } = await subtle.exportKey("jwk", kp.privateKey)
const kid = "interop-jar"
writeFileSync(process.argv[1], JSON.stringify({ kty, crv, x, y, d, kid }))
writeFileSync(process.argv[2], JSON.stringify({ keys: [{ kty, crv, x, y, kid, alg: "ES256", use: "sig" }] }))
' "$WORK/jar-key.json" "$WORK/jar-jwks.json" || die "making the request-object key failed"
JAR_JSON="$("$BIN" clients add --data-dir "$DATA" --name interop-jar --redirect-uri "$REDIRECT_URI" \
  --auth-method private_key_jwt --jwks "$WORK/jar-jwks.json" --userinfo-alg ES256 \
  --subject-type pairwise --json)" \
  || die "vhod clients add (private_key_jwt) failed"
JAR_CLIENT_ID="$(printf '%s' "$JAR_JSON" | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["client_id"])')" \
  || die "cannot parse client JSON: $JAR_JSON"
# A public client of the device authorization grant (RFC 8628): no redirect URI.
DEVICE_JSON="$("$BIN" clients add --data-dir "$DATA" --name interop-tv --public \
  --grant-type device_code --scope "email" --json)" || die "vhod clients add (device) failed"
DEVICE_CLIENT_ID="$(printf '%s' "$DEVICE_JSON" | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["client_id"])')" \
  || die "cannot parse client JSON: $DEVICE_JSON"
printf '%s\n' "$PASSWORD" | "$BIN" users add --data-dir "$DATA" --login "$LOGIN" --password-stdin \
  --email alice@example.com --name "Alice Example" >/dev/null || die "vhod users add failed"

# DPoP nonces required (RFC 9449 §8-9): openid-client must take the nonce vhod gives and retry.
VHOD_LISTEN="127.0.0.1:$PORT" VHOD_REQUIRE_DPOP_NONCE=true "$BIN" serve --data-dir "$DATA" >"$LOG" 2>&1 &
SERVER_PID=$!

ready=0
for _ in $(seq 1 100); do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    cat "$LOG" >&2
    die "vhod exited before becoming ready"
  fi
  if "$PYTHON" - "$ISSUER/readyz" <<'EOF' 2>/dev/null; then
import sys, urllib.request
sys.exit(0 if urllib.request.urlopen(sys.argv[1], timeout=1).status == 200 else 1)
EOF
    ready=1
    break
  fi
  sleep 0.2
done
[[ $ready == 1 ]] || { tail -n 50 "$LOG" >&2; die "vhod not ready at $ISSUER/readyz after 20 s"; }

export INTEROP_ISSUER="$ISSUER" INTEROP_CLIENT_ID="$CLIENT_ID" INTEROP_CLIENT_SECRET="$CLIENT_SECRET" \
  INTEROP_REDIRECT_URI="$REDIRECT_URI" INTEROP_LOGIN="$LOGIN" INTEROP_PASSWORD="$PASSWORD" \
  INTEROP_DPOP_NONCE=required INTEROP_JAR_CLIENT_ID="$JAR_CLIENT_ID" INTEROP_JAR_KEY="$WORK/jar-key.json" \
  INTEROP_DEVICE_CLIENT_ID="$DEVICE_CLIENT_ID" INTEROP_RESOURCE="$RESOURCE"

# --- flows ---------------------------------------------------------------------------------
failed=0
(cd "$HERE/node" && "$NODE" flow.mjs) || failed=1
(cd "$HERE/python" && "$PY" -W ignore::DeprecationWarning flow.py) || failed=1

if [[ $failed != 0 ]]; then
  say "failed; last server log lines:"
  tail -n 30 "$LOG" >&2
  exit 1
fi
