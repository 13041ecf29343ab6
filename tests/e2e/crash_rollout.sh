#!/bin/bash
# Crash safety of `rollout apply` and `rollout rollback`: a test build kills
# certkeeper (SIGKILL) at every rollout fault point (CERTKEEPER_FAULT=point).
# After each, `rollout rollback` puts back the exact files and every endpoint
# serves the old certificate, and (killed again at the same point)
# `rollout resume` finishes: every endpoint serves the new one, the pin holds
# its fingerprint, the key to clean up is wiped. A rollback killed part-way is
# finished by the next `rollout rollback`. What endpoints serve is checked with
# openssl s_client against real servers: two nginx and an openssl s_server.
. "$(dirname "$0")/lib.sh" "$1"
command -v nginx >/dev/null || fail "nginx is not installed (scripts/install-deps.sh)"
export CERTKEEPER_CA_PASSPHRASE="crash rollout passphrase"
test_pki
for v in old new; do leaf $v "DNS:site.example.test,IP:127.0.0.1"; done
sha() { openssl x509 -in "$1" -outform DER | openssl sha256 -r | cut -d' ' -f1; }
OLD=$(sha "$WORK/old.pem"); NEW=$(sha "$WORK/new.pem")
MD5_NEW=$(openssl x509 -in "$WORK/new.pem" -noout -fingerprint -md5 | cut -d= -f2 | tr -d :)
ck ca init --name "Crash CA" > /dev/null 2>&1
for v in old new; do
  ck cert import --cert "$WORK/$v.pem" --key "$WORK/$v.key" --chain "$WORK/inter.pem" --name site > /dev/null 2>&1
done

# endpoint PORT: the SHA-256 of the leaf it serves (openssl s_client), "none" without a handshake
endpoint() {
  local pem
  pem=$(openssl s_client -connect "127.0.0.1:$1" -servername site.example.test < /dev/null 2>/dev/null \
    | openssl x509 2>/dev/null) || true
  if [ -z "$pem" ]; then echo none; else echo "$pem" | openssl x509 -outform DER | openssl sha256 -r | cut -d' ' -f1; fi
}
P=17520  # the s_server on P, nginx on P+1 and P+2
PORTS="$P $((P + 1)) $((P + 2))"
serving() {  # serving SHA WHAT: every endpoint serves SHA
  local port
  for port in $PORTS; do assert_eq "$(endpoint "$port")" "$1" "$2: 127.0.0.1:$port"; done
}

# The s_server "service": its deploy command copies the files in and restarts it.
mkdir -p "$WORK/srv"
cat > "$WORK/srv-deploy" <<SH
#!/bin/sh
set -e
cp "\$1" "$WORK/srv/full.pem"; cp "\$2" "$WORK/srv/key.pem"
if [ -s "$WORK/srv/pid" ]; then kill "\$(cat "$WORK/srv/pid")" 2>/dev/null || true; sleep 0.2; fi
openssl s_server -accept 127.0.0.1:$P -cert "$WORK/srv/full.pem" -cert_chain "$WORK/inter.pem" \
  -key "$WORK/srv/key.pem" -quiet < /dev/null > /dev/null 2>&1 &
echo \$! > "$WORK/srv/pid"
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
  openssl s_client -connect 127.0.0.1:$P < /dev/null > /dev/null 2>&1 && exit 0; sleep 0.1
done
SH
chmod +x "$WORK/srv-deploy"
cat "$WORK/old.pem" "$WORK/inter.pem" > "$WORK/old-full.pem"
"$WORK/srv-deploy" "$WORK/old-full.pem" "$WORK/old.key" > /dev/null
CLEANUP_CMDS+=('kill $(cat "$WORK/srv/pid") 2>/dev/null')

for n in 1 2; do
  D="$WORK/web$n"; mkdir -p "$D/logs" "$D/tmp" "$D/tls"
  cp "$WORK/old-full.pem" "$D/tls/full.pem"; cp "$WORK/old.key" "$D/tls/key.pem"; chmod 600 "$D/tls/key.pem"
  nginx_tls_conf "$D" $((P + n)) "$D/tls/full.pem" "$D/tls/key.pem"
  launch_nginx "$D" "$WORK/root.pem" "https://127.0.0.1:$((P + n))/" || fail "nginx web$n did not start"
done

# A pin (monit-style md5) and a key the rollout wipes when it is done.
mkdir -p "$WORK/pins"
printf 'check host site\n  if failed port %s certmd5 %s then alert\n' $((P + 1)) \
  "$(openssl x509 -in "$WORK/old.pem" -noout -fingerprint -md5 | cut -d= -f2 | tr -d :)" > "$WORK/pins/site.conf"
put_key_back() { cp "$WORK/new.key" "$WORK/site.key"; }
put_key_back

PLAN="$WORK/plan.toml"
{
  printf '[certificate]\nname = "site"\nca_file = "root.pem"\n\n'
  printf '[[pin]]\npaths = ["pins/*.conf"]\nalgorithm = "md5"\nformat = "HEX"\n\n'
  printf '[cleanup]\nfiles = ["site.key"]\n\n'
  printf '[[stage]]\nname = "first"\n[[stage.target]]\nname = "srv"\n'
  printf 'endpoints = ["127.0.0.1:%s@site.example.test"]\nverify_timeout = "10s"\n' $P
  printf '[stage.target.deploy]\nkind = "command"\n'
  printf 'command = ["%s", "{{fullchain_file}}", "{{key_file}}"]\ntimeout = "20s"\n\n' "$WORK/srv-deploy"
  printf '[[stage]]\nname = "web"\n'
  for n in 1 2; do
    printf '[[stage.target]]\nname = "web%s"\n' $n
    printf 'endpoints = ["127.0.0.1:%s@site.example.test"]\nverify_timeout = "10s"\n' $((P + n))
    printf '[stage.target.deploy]\nkind = "files"\nfullchain = "%s"\nkey = "%s"\n' \
      "$WORK/web$n/tls/full.pem" "$WORK/web$n/tls/key.pem"
    printf 'reload = ["nginx", "-p", "%s", "-c", "%s", "-s", "reload"]\n' "$WORK/web$n" "$WORK/web$n/nginx.conf"
  done
} > "$PLAN"
on_fail() { ck rollout status "$PLAN" 2>&1 | tail -8; }

files() { sha256sum "$WORK"/web*/tls/* "$WORK/srv/"*.pem "$WORK/pins/site.conf"; }
state() { ck rollout status "$PLAN" --json | json 'd["state"]'; }
crash() {  # crash POINT command... : the command must die at POINT
  local point="$1" rc=0; shift
  CERTKEEPER_FAULT="$point" "$@" > /dev/null 2>&1 || rc=$?
  assert_eq "$rc" 137 "$point: killed by SIGKILL (is this a test build?)"
}
rolled_back() {  # rolled_back WHAT: the exact files of before, the old certificate everywhere
  assert_eq "$(state)" rolled-back "$1: state"
  assert_eq "$(files)" "$ORIGINAL" "$1: files byte for byte"
  serving "$OLD" "$1"
}
finished() {  # finished WHAT: the new certificate everywhere, the pin rewritten, the key wiped
  assert_eq "$(state)" done "$1: state"
  serving "$NEW" "$1"
  grep -q "certmd5 $MD5_NEW then" "$WORK/pins/site.conf" || fail "$1: pin not rewritten"
  [ ! -e "$WORK/site.key" ] || fail "$1: the key was not cleaned up"
}
reset() {  # reset WHAT: roll back a finished rollout, check it, put the key to wipe back
  ck rollout rollback "$PLAN" > /dev/null || fail "$1: rollback"
  rolled_back "$1, then rolled back"
  put_key_back
}
serving "$OLD" "before any rollout"
ORIGINAL=$(files)

# --- apply killed at each point: rollback restores; killed again, resume finishes.
for point in rollout.after_journal rollout.after_backup rollout.mid_deploy rollout.after_deploy \
             rollout.pins_backup rollout.mid_pins; do
  crash "$point" ck rollout apply "$PLAN"
  assert_eq "$(state)" running "$point: the journal says running"
  rc=0; ck rollout apply "$PLAN" > /dev/null 2> "$WORK/err" || rc=$?
  assert_eq "$rc" 1 "$point: apply over an interrupted rollout"
  grep -q "rollout resume" "$WORK/err" || fail "$point: apply should point to resume: $(cat "$WORK/err")"
  ck rollout rollback "$PLAN" > /dev/null || fail "$point: rollback after the crash"
  rolled_back "$point, then rollback"

  crash "$point" ck rollout apply "$PLAN"
  ck rollout resume "$PLAN" > /dev/null || fail "$point: resume after the crash"
  finished "$point, then resume"
  reset "$point, resumed"
  pass "$point: rollback restores the exact files; resume finishes"
done

# --- killed after `done` is journaled, before the key is wiped: apply again wipes it.
crash rollout.before_cleanup ck rollout apply "$PLAN"
assert_eq "$(state)" done "before_cleanup: state"
[ -e "$WORK/site.key" ] || fail "before_cleanup: the key should still be there"
ck rollout apply "$PLAN" > /dev/null || fail "before_cleanup: apply again"
finished "before_cleanup, then apply"
reset "before_cleanup, applied"
pass "rollout.before_cleanup: the next apply wipes the key"

# --- rollback killed at each of its points: apply refuses, the next rollback finishes.
for point in rollout.rollback_before_mark rollout.rollback_after_mark rollout.rollback_pins; do
  ck rollout apply "$PLAN" > /dev/null || fail "$point: apply"
  finished "$point: apply"
  crash "$point" ck rollout rollback "$PLAN"
  assert_eq "$(state)" rolling-back "$point: the journal says rolling-back"
  rc=0; ck rollout apply "$PLAN" > /dev/null 2> "$WORK/err" || rc=$?
  assert_eq "$rc" 1 "$point: apply over an interrupted rollback"
  grep -q "rollout rollback" "$WORK/err" || fail "$point: apply should point to rollback: $(cat "$WORK/err")"
  ck rollout rollback "$PLAN" > /dev/null || fail "$point: rollback again"
  rolled_back "$point, then rollback again"
  put_key_back
  pass "$point: the next rollback finishes"
done
