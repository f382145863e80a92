#!/usr/bin/env bash
# Usage: conformance/tls.sh DIR
# Writes DIR/ca.pem (a throw-away CA the runner is told to trust, via ca_file) and
# DIR/tls.pem + DIR/tls.key (a P-256 server certificate for 127.0.0.1 and localhost, signed
# by that CA, valid two days). The Foundation's modules require https endpoints, so the OP
# under test is served over TLS even on loopback. Needs openssl.
set -euo pipefail
dir=$1
cd "$dir"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -keyout ca.key -out ca.pem -subj "/CN=vhod conformance CA" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout tls.key -out tls.csr -subj "/CN=127.0.0.1" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' >tls.ext
openssl x509 -req -in tls.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
  -extfile tls.ext -out tls.pem 2>/dev/null
rm -f ca.key tls.csr tls.ext ca.srl
