#!/bin/bash
# The command-line contract: --version, --help on every command, --json on
# every command is valid JSON, global options before or after the command.
. "$(dirname "$0")/lib.sh" "$1"

"$CK_BIN" --version | grep -q "^certkeeper [0-9]" || fail "--version"
for cmd in "" "ca" "ca init" "ca show" "user" "user create" "user renew" "user revoke" \
           "user confirm" "user list" "user show" "cert list" "expiring" "crl build" "crl status" \
           "fingerprint"; do
  # shellcheck disable=SC2086
  out=$("$CK_BIN" $cmd --help) || fail "'$cmd --help' exit code"
  echo "$out" | grep -q "Usage" || fail "'$cmd --help' prints usage"
done
"$CK_BIN" user create --help | grep -q -- "--password-file" || fail "user create --help explains options"
pass "--version and --help on every command"

"$CK_BIN" ca init --name "E2E CA" --no-passphrase --json --home "$H" | json 'd["name"]' | grep -q "E2E CA" || fail "global options after the command"
check_json() { "$@" | /usr/bin/python3 -c 'import json,sys; json.load(sys.stdin)' || fail "not JSON: $*"; }
check_json ck --json ca show
check_json ck --json user create alice --cn Alice --email alice@example.org --out "$WORK/b"
check_json ck --json user renew alice --out "$WORK/b" --set ou=Ops
check_json ck --json user list
check_json ck --json user show alice
check_json ck --json cert list
check_json ck --json cert list --status held
check_json ck --json expiring
check_json ck --json crl status
check_json ck --json user confirm alice
check_json ck --json crl build
check_json ck --json user revoke alice --reason keyCompromise
check_json ck --json fingerprint "$WORK/b/alice.crt" --md5 --format hex
pass "--json on every command"

# expiring --fail-if-any exits 3 only when something expires in the window.
ck user create bob --cn Bob --email bob@example.org --validity 5d --out "$WORK/b" --password-file "$WORK/bob.pw" >/dev/null
rc=0; ck expiring --within 14d --fail-if-any >/dev/null || rc=$?
assert_eq "$rc" 3 "expiring --fail-if-any with a certificate in the window"
rc=0; ck expiring --within 1d --fail-if-any >/dev/null || rc=$?
assert_eq "$rc" 0 "expiring --fail-if-any with nothing in the window"
pass "expiring exit codes"

# Fingerprint agrees with openssl in every form.
want=$(openssl x509 -in "$WORK/b/bob.crt" -noout -fingerprint -md5 | cut -d= -f2 | tr -d : | tr A-F a-f)
assert_eq "$(ck fingerprint "$WORK/b/bob.crt" --md5 --format hex)" "$want" "md5 hex (monit certmd5)"
want=$(openssl x509 -in "$WORK/b/bob.crt" -noout -fingerprint -sha256 | cut -d= -f2)
assert_eq "$(ck fingerprint "$WORK/b/bob.crt")" "$want" "sha256 colon"
pass "fingerprint matches openssl"

# The audit log records who did what, without secrets.
ck --json user show alice | json '[h["action"] for h in d["history"]]' | grep -q "user.revoke" || fail "audit history"
pass "audit history"
