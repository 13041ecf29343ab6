#!/bin/bash
# The server-certificate runbook, on this machine, in about half a minute:
# three nginx nodes, the Ansible play that deploys to them, monit pinning each
# node's certificate, a PagerDuty maintenance window (a local stand-in of its
# API), and certkeeper rolling a renewed certificate out: check first, the
# canary, then the rest, each node verified by a TLS handshake. Everything
# runs on 127.0.0.1 in a temporary folder, removed at the end (KEEP=1 keeps it).
#
# usage: examples/runbook/run.sh [CERTKEEPER]   (default: build/certkeeper, else certkeeper in PATH)
# needs: nginx, ansible-playbook, monit, openssl, curl, python3 (scripts/install-deps.sh)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
CK="${1:-}"
if [ -z "$CK" ]; then
  CK="$HERE/../../build/certkeeper"
  [ -x "$CK" ] || CK=$(command -v certkeeper) || { echo "run.sh: no certkeeper (build it first)" >&2; exit 1; }
fi
CK="$(cd "$(dirname "$CK")" && pwd)/$(basename "$CK")"
for tool in nginx ansible-playbook monit openssl curl /usr/bin/python3; do
  command -v "$tool" > /dev/null || { echo "run.sh: $tool is missing (scripts/install-deps.sh)" >&2; exit 1; }
done
ROOT="$(mktemp -d "${TMPDIR:-/tmp}/certkeeper-runbook.XXXXXX")"
PIDS=()
teardown() {
  [ -f "$ROOT/monit/monitrc" ] && monit -c "$ROOT/monit/monitrc" quit > /dev/null 2>&1 || true
  for p in "${PIDS[@]}"; do kill "$p" 2> /dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2> /dev/null || true; done
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $ROOT"; else rm -rf "$ROOT"; fi
}
trap teardown EXIT
export CERTKEEPER_HOME="$ROOT/home"
say() { printf '\n# %s\n' "$*"; }
run() { printf '$ certkeeper'; printf ' %q' "$@"; echo; "$CK" "$@"; }

say "A throwaway PKI like a public CA's: a root (what clients trust) and an intermediate."
cd "$ROOT"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "/CN=Runbook demo root" \
  -keyout root.key -out root.pem 2> /dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=Runbook demo intermediate" \
  -keyout inter.key -out inter.csr 2> /dev/null
openssl x509 -req -in inter.csr -CA root.pem -CAkey root.key -CAcreateserial -days 30 -out inter.pem \
  -extfile <(printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n') 2> /dev/null
for v in old new; do
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=www.example.test" \
    -keyout "$v.key" -out "$v.csr" 2> /dev/null
  openssl x509 -req -in "$v.csr" -CA inter.pem -CAkey inter.key -CAserial root.srl -days 20 -out "$v.pem" \
    -extfile <(printf 'subjectAltName=DNS:www.example.test,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n') 2> /dev/null
  cat "$v.pem" inter.pem > "$v.fullchain"
done
echo "root.pem, inter.pem; old.pem (in production now) and new.pem (its renewal) for www.example.test"

say "The certificate in production and its renewal, stored as two versions of one name."
run cert import --cert old.pem --key old.key --chain inter.pem --name www > /dev/null
run cert import --cert new.pem --key new.key --chain inter.pem --name www
PORTS=$(/usr/bin/python3 -c '
import socket
s = [socket.socket() for _ in range(4)]
for x in s: x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))')
read -r P1 P2 P3 PM <<< "$PORTS"
mkdir -p pd
/usr/bin/python3 "$HERE/pagerduty-standin" "$ROOT/pd" > pd/log 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do [ -s pd/port ] && break; sleep 0.1; done

say "Three nginx nodes serving the old certificate (ports $P1 $P2 $P3), monit checking each one's MD5."
MONIT_PORT=$PM PD_API="http://127.0.0.1:$(cat pd/port)" CERTKEEPER="$CK" \
  "$HERE/setup-nodes" "$ROOT" "$ROOT/root.pem" old.fullchain old.key "$P1" "$P2" "$P3"
for n in 1 2 3; do
  nginx -p "$ROOT/nodes/node$n" -c "$ROOT/nodes/node$n/nginx.conf" > "$ROOT/nodes/node$n/logs/stdout.log" 2>&1 &
  PIDS+=($!)
done
monit -c monit/monitrc -I > monit/stdout.log 2>&1 &
PIDS+=($!)
sleep 1
echo "plan: $ROOT/plan.toml (from $HERE/plan.toml.in)"

say "What the plan will do, and what every node serves now (old)."
run rollout plan plan.toml

say "The runbook's first step: Ansible's check mode with --diff on each node, and a probe of each. Nothing changes."
run rollout apply plan.toml --check

say "The canary: node1 only, through the play, verified by a TLS handshake. A PagerDuty window opens and closes around it."
run rollout apply plan.toml --stage canary
run verify plan.toml || true

say "Then the rest. Once every node is verified, monit's pins get the new MD5 and monit reloads."
run rollout apply plan.toml
run verify plan.toml

say "monit agrees (it checks each node's certificate MD5 every second)."
status=""
for _ in $(seq 30); do
  status=$({ monit -c monit/monitrc status 2> /dev/null || true; } |
    awk '/^Remote Host/ { h = $3; gsub("\047", "", h) } /^  status/ && h { print " ", h, $2, $3; h = "" }' | sort)
  [ "$(grep -c ' OK *$' <<< "$status")" = 3 ] && break
  sleep 0.5
done
echo "$status"
if [ "$(grep -c ' OK *$' <<< "$status")" != 3 ]; then
  echo "run.sh: monit does not report every node OK: the demo failed" >&2
  exit 1
fi

say "The PagerDuty calls the hooks made (one window per apply, its outcome written before it ended)."
/usr/bin/python3 -c '
import json, sys
for l in open(sys.argv[1]):
    c = json.loads(l)
    d = ((c["body"] or {}).get("maintenance_window") or {}).get("description", "")
    print(" ", c["method"], c["path"], d)' pd/calls.jsonl

say "Done: the renewal is on every node, verified, pinned. With ACME, acme renew --deploy-hook ROOT/on-renewal (setup-nodes writes it) does all of this on each renewal (docs/acme.md)."
