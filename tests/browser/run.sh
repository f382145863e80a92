#!/usr/bin/env bash
# Browser test: a real Chromium (Debian's, driven by playwright-core from npm) registers an
# account, turns on an authenticator app, signs in to a test client with password + app code
# through the consent page, views the account pages, revokes the client and checks that its
# refresh token no longer works, then adds a passkey (a virtual authenticator over the Chrome
# DevTools Protocol) and signs in to the client with it alone; last, a newcomer registers from
# the client's sign-in page and goes on to the client, lets a television in, and is signed
# out by the client, whose front-channel logout page the logout page loads (flow.mjs; server.mjs starts a
# fresh vhod in development mode on http://localhost:PORT with a temporary data dir and
# registers the client with the CLI). Screenshots of the main
# pages at phone and desktop widths land in $CARGO_TARGET_DIR/browser/screenshots
# (target/browser/screenshots).
#
# Builds vhod (release) unless VHOD_BIN is given and installs playwright-core when missing
# (never a browser: it uses the system's Chromium). Exits non-zero if the flow fails, after
# printing the failed step, the page and the end of the server log.
#
# Environment: CARGO_TARGET_DIR is honoured; VHOD_BIN=path skips the build; CHROMIUM picks the
# browser (default /usr/bin/chromium); NODE the interpreter; BROWSER_KEEP=1 keeps the temp dir.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
NODE="${NODE:-node}"
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

say() { echo "browser: $*" >&2; }
die() { say "$*"; exit 1; }

for tool in "$NODE" npm; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found"
done
[[ -x "$CHROMIUM" ]] || die "no Chromium at $CHROMIUM (apt-get install chromium)"

target="${CARGO_TARGET_DIR:-$ROOT/target}"
[[ "$target" = /* ]] || target="$ROOT/$target"

if [[ -z "${VHOD_BIN:-}" ]]; then
  say "building vhod (release)"
  (cd "$ROOT" && cargo build --release --quiet --bin vhod) || die "cargo build --release failed"
  VHOD_BIN="$target/release/vhod"
fi
[[ -x "$VHOD_BIN" ]] || die "no vhod binary at $VHOD_BIN"
VHOD_BIN="$(cd "$(dirname "$VHOD_BIN")" && pwd)/$(basename "$VHOD_BIN")"

if [[ ! -d "$HERE/node_modules/playwright-core" ]]; then
  say "installing playwright-core (npm ci)"
  (cd "$HERE" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >&2) \
    || die "npm ci failed"
fi

SHOTS="$target/browser/screenshots"
rm -rf "$SHOTS"
cd "$HERE"
VHOD_BIN="$VHOD_BIN" BROWSER_SCREENSHOTS="$SHOTS" "$NODE" flow.mjs
