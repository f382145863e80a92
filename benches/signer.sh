#!/usr/bin/env bash
# Side-by-side signer benchmark on one core (taskset -c 0): vhod's CAdES and PAdES signing and
# validation, beside the machine's raw `openssl speed ecdsap256 sha256` and beside pyHanko
# (from PyPI) signing and validating the same PDF with a P-256 key. It measures; it does not
# test. See benches/README.md.
#
#   bash benches/signer.sh [--seconds S]
set -euo pipefail
cd "$(dirname "$0")"
HERE=$(pwd)
SECS=3
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) SECS=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
case "$SECS" in *[!0-9]*|"") echo "--seconds takes a whole number" >&2; exit 2 ;; esac

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vhod-target}"
OUT="$HERE/out"; mkdir -p "$OUT"
command -v taskset >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq util-linux >/dev/null; }
command -v openssl >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq openssl >/dev/null; }

# pyHanko and reportlab, pinned like the signer's tests.
VENV="${VHOD_SIGNER_BENCH_VENV:-$OUT/pyhanko-venv}"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import pyhanko, reportlab' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r ../signer/tests/requirements.txt
fi
PDF="$OUT/bench.pdf"
"$VENV/bin/python" pyhanko_bench.py make "$PDF"

(cd .. && cargo bench -q -p signer --bench throughput --no-run 2>/dev/null)

echo "measuring on core 0, ${SECS} s per figure..." >&2
OPENSSL_OUT=$(taskset -c 0 openssl speed -seconds "$SECS" ecdsap256 2>/dev/null)
SHA_OUT=$(taskset -c 0 openssl speed -seconds "$SECS" -bytes 16384 sha256 2>/dev/null)
VHOD_JSON=$(cd .. && taskset -c 0 cargo bench -q -p signer --bench throughput -- --pdf "$PDF" --seconds "$SECS")
PY_JSON=$(taskset -c 0 "$VENV/bin/python" pyhanko_bench.py run "$PDF" "$SECS")

OPENSSL_OUT="$OPENSSL_OUT" SHA_OUT="$SHA_OUT" VHOD_JSON="$VHOD_JSON" PY_JSON="$PY_JSON" \
  OUT_JSON="$OUT/signer.json" python3 - <<'PY'
import json, os, re

ec = re.search(r"256 bits ecdsa \(nistp256\)\s+\S+s\s+\S+s\s+([\d.]+)\s+([\d.]+)", os.environ["OPENSSL_OUT"])
sha = re.search(r"^sha256\s+([\d.]+)k", os.environ["SHA_OUT"], re.M)
if not ec or not sha:
    raise SystemExit("could not read `openssl speed` output:\n" + os.environ["OPENSSL_OUT"] + os.environ["SHA_OUT"])
raw_sign = float(ec.group(1))
sha_bps = float(sha.group(1)) * 1000
v = json.loads(os.environ["VHOD_JSON"])
p = json.loads(os.environ["PY_JSON"])
mb10 = 10 * 1024 * 1024
sha_10mb_ms = mb10 / sha_bps * 1000

rows = []
def row(name, value, unit, anchor_name, ratio, target, ok):
    rows.append((name, value, unit, anchor_name, ratio, target, ok))

row("CAdES-BES signatures", v["cades_bes_per_s"], "/s", "openssl ECDSA P-256 sign %.0f/s" % raw_sign,
    v["cades_bes_per_s"] / raw_sign, ">= 0.5x", v["cades_bes_per_s"] / raw_sign >= 0.5)
row("PAdES B-B signatures", v["pades_bb_per_s"], "/s", "pyHanko sign %.1f/s" % p["pyhanko_sign_per_s"],
    v["pades_bb_per_s"] / p["pyhanko_sign_per_s"], ">= 50x", v["pades_bb_per_s"] / p["pyhanko_sign_per_s"] >= 50)
if "validate_pdf_per_s" in v:
    r = v["validate_pdf_per_s"] / p["pyhanko_validate_per_s"]
    row("PAdES validations (small PDF)", v["validate_pdf_per_s"], "/s",
        "pyHanko validate %.1f/s" % p["pyhanko_validate_per_s"], r, ">= 20x", r >= 20)
if "validate_cades_per_s" in v:
    r = v["validate_cades_per_s"] / p["pyhanko_validate_per_s"]
    row("CAdES validations (1 KiB)", v["validate_cades_per_s"], "/s",
        "pyHanko validate %.1f/s" % p["pyhanko_validate_per_s"], r, ">= 20x", r >= 20)
if "validate_10mb_ms" in v:
    r = v["validate_10mb_ms"] / sha_10mb_ms
    row("validation of a 10 MB document", v["validate_10mb_ms"], " ms",
        "openssl SHA-256 of 10 MB %.1f ms" % sha_10mb_ms, r, "<= 2x", r <= 2)

print("signer benchmark (one core; ratios against anchors measured in this run)")
for name, value, unit, anchor, ratio, target, ok in rows:
    print("  %-32s %10.1f%-3s  vs %-36s %7.2fx  target %-7s %s"
          % (name, value, unit, anchor, ratio, target, "PASS" if ok else "MISS"))
if not any(r[0].startswith("PAdES validations") for r in rows):
    print("  (validation figures appear once the throughput bench measures them)")
json.dump({"vhod": v, "pyhanko": p, "openssl_ecdsap256_sign_per_s": raw_sign,
           "openssl_sha256_bytes_per_s": sha_bps,
           "rows": [{"name": r[0], "value": r[1], "ratio": r[4], "target": r[5], "pass": r[6]} for r in rows]},
          open(os.environ["OUT_JSON"], "w"), indent=2)
PY
