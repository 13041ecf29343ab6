#!/bin/bash
# Small hardening cases: error lines that quote hostile values stay one
# short, escaped line; a crash's leftover `.NAME.p12.tmp-*` is removed by the
# next run; folders made for --home are 0700 under umask 000; `cert import
# --name` follows the rules of user names.
. "$(dirname "$0")/lib.sh" "$1"

# --- error lines: control characters escaped, very long values cut
ck ca init --name "E2E CA" > /dev/null 2>&1
expect_error "control characters" "invalid user name 'a\\x1b[2Jb\\nc\\r'" -- \
  ck user create "$(printf 'a\033[2Jb\nc\r')" --cn X --email x@example.org --out "$WORK/b"
grep -q "$(printf '\033')" "$WORK/err" && fail "an ESC reached the terminal: $(cat -v "$WORK/err")"
LONG=$(head -c 100000 /dev/zero | tr '\0' A)
expect_error "a 100,000-character value" "more bytes) ..." -- \
  ck user create "$LONG" --cn X --email x@example.org --out "$WORK/b"
[ "$(wc -c < "$WORK/err")" -lt 2200 ] || fail "error line of $(wc -c < "$WORK/err") bytes"
grep -q "^certkeeper: error: invalid user name 'AAAA.*AAA': use 1-64 letters" "$WORK/err" \
  || fail "the start and the end of the message are kept: $(cut -c 1-100 "$WORK/err")"
pass "error lines: escaped, and $(wc -c < "$WORK/err") bytes for a 100,000-byte value"

# --- a crash between writing a bundle's temporary file and its rename
mkdir -p "$WORK/b"
sh -c 'exit 0' & gone=$!; wait $gone  # a PID no process has any more
printf 'half a bundle' > "$WORK/b/.alice.p12.tmp-$gone-1234"
printf 'being written' > "$WORK/b/.dora.p12.tmp-$$-5678"  # a live writer's (this shell)
ck user create bob --cn Bob --email bob@example.org --out "$WORK/b" --password-file "$WORK/b.pw" > /dev/null
[ -e "$WORK/b/.alice.p12.tmp-$gone-1234" ] && fail "the crash's leftover is still there: $(ls -a "$WORK/b")"
[ -e "$WORK/b/.dora.p12.tmp-$$-5678" ] || fail "a running process's temporary file was removed"
[ -s "$WORK/b/bob.p12" ] || fail "bob's bundle"
pass "a leftover .p12.tmp-* of a dead process is removed by the next run (a live one is kept)"

# --- --home under umask 000: every folder made for it is 0700
use_home "$WORK/u/v/w/home"
( umask 000; ck ca init --name "Umask CA" > /dev/null 2>&1 ) \
  || fail "ca init in a new nested home"
for d in u u/v u/v/w u/v/w/home; do
  assert_eq "$(stat -c %a "$WORK/$d")" 700 "mode of $d made under umask 000"
done
pass "umask 000: the folders made for --home are 0700"
use_home "$WORK/home"

# --- cert import --name: the rules of user names
test_pki
leaf site "DNS:site.example.test"
for bad in "../etc" ".hidden" "-rf" "with space" "a/b" "$(printf 'x\ny')"; do
  expect_error "cert import --name '$bad'" "invalid certificate name" -- \
    ck cert import --cert "$WORK/site.pem" --key "$WORK/site.key" --chain "$WORK/inter.pem" --name="$bad"
done
ck cert import --cert "$WORK/site.pem" --key "$WORK/site.key" --chain "$WORK/inter.pem" --name site_1.example-org > /dev/null 2>&1 \
  || fail "a valid name is refused"
pass "cert import --name follows the rules of user names"
