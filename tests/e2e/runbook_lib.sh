# shellcheck shell=bash
# The example runbook (examples/runbook) brought up for a test, after lib.sh:
# a stand-in of PagerDuty's API, the three nginx nodes and monit, on ports the
# kernel picks. Sourced, not run.
RUNBOOK="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../examples/runbook" && pwd)"

# runbook_up FULLCHAIN KEY CA_FILE: lays out $R (= $WORK/rb) with setup-nodes
# (the nodes serving FULLCHAIN/KEY; $CERT_NAME, $CERTKEEPER passed through),
# starts the PagerDuty stand-in, the nodes and monit; sets R, PLAN, MONITRC,
# P1 P2 P3 (the nodes' ports), PM (monit's), PD_PORT.
runbook_up() {
  start_server PD "$WORK/pd" -- /usr/bin/python3 "$RUNBOOK/pagerduty-standin" "$WORK/pd"
  read -r P1 P2 P3 PM < <(/usr/bin/python3 -c '
import socket
s = [socket.socket() for _ in range(4)]
for x in s: x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))')
  R="$WORK/rb"
  MONIT_PORT=$PM PD_API="http://127.0.0.1:$PD_PORT" \
    "$RUNBOOK/setup-nodes" "$R" "$3" "$1" "$2" "$P1" "$P2" "$P3"
  PLAN="$R/plan.toml"
  local n d p
  for n in 1 2 3; do
    d="$R/nodes/node$n"
    nginx -p "$d" -c "$d/nginx.conf" > "$d/logs/stdout.log" 2>&1 &
    CLEANUP_CMDS+=("kill $! 2>/dev/null; wait $! 2>/dev/null")
  done
  for p in $P1 $P2 $P3; do
    for _ in $(seq 100); do [ -n "$(served "$p")" ] && break; sleep 0.1; done
  done
  MONITRC="$R/monit/monitrc"
  monit -c "$MONITRC" -t > "$WORK/monit-t.txt" 2>&1 || fail "monit -t: $(cat "$WORK/monit-t.txt")"
  monit -c "$MONITRC" -I > "$WORK/monit.out" 2>&1 &
  CLEANUP_CMDS+=("monit -c '$MONITRC' quit > /dev/null 2>&1; kill $! 2>/dev/null; wait $! 2>/dev/null")
}
# served PORT: the SHA-256 of the certificate a node serves, by openssl
# s_client (empty when no handshake).
served() {
  local fp
  fp=$(openssl s_client -connect "127.0.0.1:$1" -servername www.example.test < /dev/null 2>/dev/null \
    | openssl x509 -outform DER 2>/dev/null | openssl sha256 -r | cut -d' ' -f1)
  [ "$fp" = "$(printf '' | openssl sha256 -r | cut -d' ' -f1)" ] && fp=""
  echo "$fp"
}
fleet() { echo "$(served "$P1") $(served "$P2") $(served "$P3")"; }
sha_of() { openssl x509 -in "$1" -outform DER | openssl sha256 -r | cut -d' ' -f1; }
md5_hex() { openssl x509 -in "$1" -noout -fingerprint -md5 | cut -d= -f2 | tr -d :; }
# monit_states: each node's status as monit reports it ("OK", "Connection failed", ...).
monit_states() {
  monit -c "$MONITRC" status 2>/dev/null | awk '
    /^Remote Host / { host = $3; gsub("\047", "", host) }
    /^  status / && host != "" { sub(/^  status +/, ""); states[host] = $0; host = "" }
    END { printf "%s|%s|%s", states["node1"], states["node2"], states["node3"] }'
}
# wait_monit WANT: until monit's states are WANT (monit checks every second).
wait_monit() {
  for _ in $(seq 60); do [ "$(monit_states)" = "$1" ] && return 0; sleep 0.5; done
  fail "monit: want '$1', got '$(monit_states)' ($(tail -3 "$R/monit/monit.log"))"
}
# pd_calls N: the last N calls PagerDuty received, "METHOD path [description]".
pd_calls() {
  tail -n "$1" "$WORK/pd/calls.jsonl" | /usr/bin/python3 -c '
import json, sys
for l in sys.stdin:
    c = json.loads(l)
    d = ((c["body"] or {}).get("maintenance_window") or {}).get("description", "")
    print(c["method"], c["path"], d)'
}
# pd_at N: when the Nth call from the end arrived (seconds since the epoch).
pd_at() { tail -n "$1" "$WORK/pd/calls.jsonl" | head -1 | json 'd["at"]'; }
