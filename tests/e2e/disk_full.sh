#!/bin/bash
# A full disk and a read-only one, on a small tmpfs (the tests run as root):
# `user create`, `crl build` and a rollout's file deployment with the disk
# filled to leave 0, 1, 2, ... pages free, so the failure lands at each write
# in turn. Every failure: exit 1, one `certkeeper: error:` line naming the file
# and saying the disk is full, no temporary or partial file left, the store
# intact (sqlite3 integrity_check) and telling the truth, and the documented
# follow-up succeeding once space is freed.
. "$(dirname "$0")/lib.sh" "$1"
export CERTKEEPER_CA_PASSPHRASE="disk full test passphrase"

T="$WORK/small"
mkdir -p "$T"
if ! mount -t tmpfs -o size=512k,mode=0700 tmpfs "$T" 2> "$WORK/mount.err"; then
  echo "SKIP: cannot mount a tmpfs here ($(cat "$WORK/mount.err")); run as root to test a full disk"
  exit 0
fi
CLEANUP_CMDS+=("umount -l '$T'")
PAGE=$(getconf PAGESIZE)

# fill_to BYTES: a filler file takes all the free space of the tmpfs but BYTES.
fill_to() {
  rm -f "$T/filler"
  local avail=$(( $(stat -f -c '%a * %S' "$T") ))
  [ "$avail" -gt "$1" ] || fail "the tmpfs has only $avail bytes free"
  fallocate -l $(( avail - $1 )) "$T/filler"
}
unfill() { rm -f "$T/filler"; }
integrity() {
  assert_eq "$(sqlite3 "$1" 'PRAGMA integrity_check')" ok "integrity of $1"
}
# no_leftovers DIR: no temporary file of ours anywhere under DIR.
no_leftovers() {
  local left
  left=$(find "$1" -name '*.tmp-*' -o -name '*-journal' -o -name '*.wal' | grep -v '/filler$' || true)
  [ -z "$left" ] || fail "$2: left behind: $left"
}
# one_error NAME NEEDLE: the last command's stderr ($WORK/err) is one clear line.
one_error() {
  cat "$WORK/err" >&2; [ "$(wc -l < "$WORK/err")" = 1 ] || fail "$1: want one stderr line, got: $(cat "$WORK/err")"
  grep -q "^certkeeper: error: " "$WORK/err" || fail "$1: message format: $(cat "$WORK/err")"
  grep -qF -- "$2" "$WORK/err" || fail "$1: message does not name '$2': $(cat "$WORK/err")"
}
full_error() {
  one_error "$1" "$2"
  grep -qi "no space left on device" "$WORK/err" || fail "$1: does not say the disk is full: $(cat "$WORK/err")"
}

ck ca init --name "Disk CA" > /dev/null 2>&1

# --- user create --out on the full tmpfs: 0, 1, 2, ... pages free, until it fits.
OUT="$T/out"; mkdir -p "$OUT"
n=0
while :; do
  u="u$n"
  fill_to $(( n * PAGE ))
  rc=0
  ck user create "$u" --cn "User $n" --email "$u@example.org" --out "$OUT" \
    --password-file "$OUT/$u.pw" > "$WORK/out" 2> "$WORK/err" || rc=$?
  if [ "$rc" = 0 ]; then break; fi
  assert_eq "$rc" 1 "user create with $n pages free"
  full_error "user create, $n pages free" "$OUT/"
  no_leftovers "$OUT" "user create, $n pages free"
  # Nothing half-written: a file left is a complete one of the previous state (none here).
  for f in "$OUT/$u.p12" "$OUT/$u.crt" "$OUT/$u.pw"; do
    [ -e "$f" ] && fail "user create, $n pages free: $f was left (its password is lost)"
  done
  integrity "$H/certkeeper.db"
  ck --json user show "$u" > "$WORK/show" 2>&1 || fail "user show $u: $(cat "$WORK/show")"
  assert_eq "$(json 'd["current"]["delivery"]' < "$WORK/show")" pending "user show $u after a full disk"
  json 'd["notes"][0]' < "$WORK/show" | grep -qF "certkeeper user renew $u" || fail "user show $u: no reissue command: $(cat "$WORK/show")"
  msg=$(sed 's/.*: cannot/... cannot/' "$WORK/err")
  # The documented follow-up, once there is space: renew delivers a bundle.
  unfill
  ck user renew "$u" --out "$OUT" --password-file "$OUT/$u.pw" > /dev/null 2> "$WORK/err" \
    || fail "user renew $u after freeing space: $(cat "$WORK/err")"
  openssl pkcs12 -in "$OUT/$u.p12" -passin "file:$OUT/$u.pw" -nokeys -noout 2>/dev/null \
    || openssl pkcs12 -legacy -in "$OUT/$u.p12" -passin "file:$OUT/$u.pw" -nokeys -noout 2>/dev/null \
    || fail "renewed bundle of $u does not open with its password"
  rm -f "$OUT/$u.p12" "$OUT/$u.crt" "$OUT/$u.pw"
  pass "user create with $n pages free: exit 1, '$msg', nothing partial, renew delivers"
  n=$(( n + 1 ))
  [ "$n" -le 8 ] || fail "user create never succeeded"
done
[ "$n" -ge 2 ] || fail "the bundle fitted with $n pages free: the test did not fail at each write"
assert_eq "$(ck --json user show "$u" | json 'd["current"]["delivery"]')" delivered "user show after success"
pass "user create succeeds with $n pages free (the failure landed at each of $n writes first)"
unfill

# --- user renew over an existing bundle: a failure keeps the old bundle whole.
ck user create keep --cn Keep --email keep@example.org --out "$OUT" --password-file "$OUT/keep.pw" > /dev/null 2>&1
P12_BEFORE=$(sha256sum < "$OUT/keep.p12"); CRT_BEFORE=$(sha256sum < "$OUT/keep.crt")
for pages in 0 1 2; do
  fill_to $(( pages * PAGE ))
  rc=0; ck user renew keep --out "$OUT" > "$WORK/out" 2> "$WORK/err" || rc=$?
  [ "$rc" = 0 ] && break
  assert_eq "$rc" 1 "user renew with $pages pages free"
  full_error "user renew, $pages pages free" "$OUT/"
  no_leftovers "$OUT" "user renew, $pages pages free"
  assert_eq "$(sha256sum < "$OUT/keep.p12")" "$P12_BEFORE" "keep.p12 after a failed renew ($pages pages)"
  assert_eq "$(sha256sum < "$OUT/keep.crt")" "$CRT_BEFORE" "keep.crt after a failed renew ($pages pages)"
  openssl pkcs12 -in "$OUT/keep.p12" -passin "file:$OUT/keep.pw" -nokeys -noout 2>/dev/null \
    || fail "keep.p12 no longer opens with its password"
  integrity "$H/certkeeper.db"
  pass "user renew with $pages pages free: the old bundle is kept whole"
done
unfill

# --- the home (the store) on the full tmpfs: SQLite's writes fail cleanly.
H2="$T/home"
"$CK_BIN" --home "$H2" ca init --name "Home CA" > /dev/null 2>&1
for pages in 0 1 2 4; do
  before=$(sqlite3 "$H2/certkeeper.db" .dump)
  fill_to $(( pages * PAGE ))
  rc=0
  "$CK_BIN" --home "$H2" user create "h$pages" --cn "H $pages" --email h@example.org --out "$WORK/hb" \
    --password-file "$WORK/h$pages.pw" > "$WORK/out" 2> "$WORK/err" || rc=$?
  unfill
  integrity "$H2/certkeeper.db"
  if [ "$rc" = 0 ]; then pass "home with $pages pages free: user create fits"; continue; fi
  assert_eq "$rc" 1 "user create with the home $pages pages free"
  one_error "home full ($pages pages)" "$H2"
  grep -qi "no space left on device\|disk is full" "$WORK/err" || fail "home full: does not say the disk is full: $(cat "$WORK/err")"
  no_leftovers "$H2" "home full ($pages pages)"
  assert_eq "$(sqlite3 "$H2/certkeeper.db" .dump)" "$before" "the store after a full-disk failure"
  [ -e "$WORK/h$pages.pw" ] && fail "home full: a password file was written for a user the store does not have"
  pass "home with $pages pages free: exit 1, '$(cut -c1-150 "$WORK/err")', store unchanged"
done
"$CK_BIN" --home "$H2" user create hfree --cn Free --email f@example.org --out "$WORK/hb" \
  --password-file "$WORK/hfree.pw" > /dev/null 2> "$WORK/err" || fail "user create after freeing the home: $(cat "$WORK/err")"
pass "home: user create works once space is freed"

# --- crl build --out on the full tmpfs
ck user revoke u0 --reason keyCompromise > /dev/null 2>&1
ck crl build --out "$T/ca.crl" > /dev/null 2>&1 || fail "first crl build"
CRL_BEFORE=$(sha256sum < "$T/ca.crl"); NUM_BEFORE=$(crl_number "$T/ca.crl")
ck user revoke keep --reason keyCompromise > /dev/null 2>&1
fill_to 0
rc=0; ck crl build --out "$T/ca.crl" > "$WORK/out" 2> "$WORK/err" || rc=$?
assert_eq "$rc" 1 "crl build on a full disk"
full_error "crl build, full" "$T/ca.crl"
no_leftovers "$T" "crl build, full"
assert_eq "$(sha256sum < "$T/ca.crl")" "$CRL_BEFORE" "the CRL file after a failed write"
integrity "$H/certkeeper.db"
rc=0; ck crl status --fail-if-stale > "$WORK/status" 2>&1 || rc=$?
[ "$rc" = 0 ] && fail "crl status --fail-if-stale passes with the recorded CRL missing from its file"
grep -q "stale: CRL #.*'s file $T/ca.crl is missing or no longer holds it" "$WORK/status" \
  || fail "crl status does not say the file lags: $(cat "$WORK/status")"
pass "crl build on a full disk: exit 1, '$(cat "$WORK/err")', old file kept whole"
unfill
ck crl build --out "$T/ca.crl" > /dev/null 2> "$WORK/err" || fail "crl build after freeing space: $(cat "$WORK/err")"
[ "$(crl_number "$T/ca.crl")" -gt "$NUM_BEFORE" ] || fail "the CRL file was not renewed"
openssl crl -in "$T/ca.crl" -noout -text | grep -q "$(ck user show keep --json 2>/dev/null | json 'd["certificates"][0]["serial"]' 2>/dev/null | tr a-f A-F || echo x)" \
  || openssl crl -in "$T/ca.crl" -noout -text | grep -q "Key Compromise" || fail "the new CRL lists no revocation"
pass "crl build after freeing space writes the newer CRL"

# --- rollout: a files target whose files are on the full tmpfs
test_pki
leaf old "DNS:site.example.test,IP:127.0.0.1"
leaf new "DNS:site.example.test,IP:127.0.0.1"
ck cert import --cert "$WORK/old.pem" --key "$WORK/old.key" --chain "$WORK/inter.pem" --name site > /dev/null 2>&1
ck cert import --cert "$WORK/new.pem" --key "$WORK/new.key" --chain "$WORK/inter.pem" --name site > /dev/null 2>&1
SRV="$T/srv"; mkdir -p "$SRV"
cat "$WORK/old.pem" "$WORK/inter.pem" > "$SRV/fullchain.pem"; cp "$WORK/old.key" "$SRV/key.pem"; chmod 600 "$SRV/key.pem"
PORT=$(( 20000 + RANDOM % 12000 ))
# reload: restart an openssl s_server on the deployed files (what nginx -s reload would do).
cat > "$WORK/reload" <<SH
#!/bin/sh
[ -s "$WORK/srv.pid" ] && kill \$(cat "$WORK/srv.pid") 2>/dev/null
sleep 0.2
openssl s_server -accept 127.0.0.1:$PORT -cert "$SRV/fullchain.pem" -cert_chain "$WORK/inter.pem" -key "$SRV/key.pem" -quiet < /dev/null > "$WORK/srv.log" 2>&1 &
echo \$! > "$WORK/srv.pid"
SH
chmod +x "$WORK/reload"
CLEANUP_CMDS+=('kill $(cat "$WORK/srv.pid") 2>/dev/null')
# One stage, one `files` target on the tmpfs (the certificate named last).
cat > "$WORK/plan.toml" <<TOML
[[stage]]
name = "all"
[[stage.target]]
name = "srv"
verify_timeout = "10s"
endpoints = ["127.0.0.1:$PORT@site.example.test"]
deploy = { kind = "files", fullchain = "$SRV/fullchain.pem", key = "$SRV/key.pem", key_mode = "0600", reload = ["$WORK/reload"] }

[certificate]
ca_file = "root.pem"
name = "site"
TOML
files_sum() { sha256sum "$SRV/fullchain.pem" "$SRV/key.pem"; }
ORIGINAL=$(files_sum)
for pages in 0 1; do
  fill_to $(( pages * PAGE ))
  rc=0; ck rollout apply "$WORK/plan.toml" > "$WORK/out" 2> "$WORK/err" || rc=$?
  assert_eq "$rc" 1 "rollout apply with $pages pages free"
  grep -q "^certkeeper: error: all/srv: .*$SRV/" "$WORK/err" || fail "rollout, $pages pages: message: $(cat "$WORK/err")"
  grep -qi "no space left on device" "$WORK/err" || fail "rollout, $pages pages: does not say the disk is full: $(cat "$WORK/err")"
  no_leftovers "$SRV" "rollout, $pages pages free"
  # Both files as they were: never a new chain with the old key.
  assert_eq "$(files_sum)" "$ORIGINAL" "the target's files after a failed deploy ($pages pages)"
  integrity "$H/certkeeper.db"
  ck rollout status "$WORK/plan.toml" --json > "$WORK/status.json"
  assert_eq "$(json 'd["state"]' < "$WORK/status.json")" failed "rollout status after a full disk ($pages pages)"
  msg=$(head -1 "$WORK/err")
  # The files are as they were, so rollback has nothing to write: it works on the full disk.
  ck rollout rollback "$WORK/plan.toml" > /dev/null 2> "$WORK/err" || fail "rollback after a full disk: $(cat "$WORK/err")"
  assert_eq "$(files_sum)" "$ORIGINAL" "the target's files after rollback ($pages pages)"
  pass "rollout with $pages pages free: exit 1, '$msg', files untouched, rollback clean"
done
fill_to 0
# A failed apply, then space is freed: resume finishes the deployment.
rc=0; ck rollout apply "$WORK/plan.toml" > /dev/null 2> "$WORK/err" || rc=$?
assert_eq "$rc" 1 "rollout apply on a full disk"
unfill
ck rollout resume "$WORK/plan.toml" > /dev/null 2> "$WORK/err" || fail "rollout resume after freeing space: $(cat "$WORK/err")"
assert_eq "$(sha256sum < "$SRV/fullchain.pem")" "$(cat "$WORK/new.pem" "$WORK/inter.pem" | sha256sum)" "fullchain after resume"
assert_eq "$(sha256sum < "$SRV/key.pem")" "$(sha256sum < "$WORK/new.key")" "key after resume"
pass "rollout resume after freeing space deploys the new files"

# --- read-only: the output folder and the home on a read-only mount
ck user create ro1 --cn Ro --email ro@example.org --out "$OUT" --password-file "$OUT/ro1.pw" > /dev/null 2>&1
CRL_BEFORE=$(sha256sum < "$T/ca.crl")
mount -o remount,ro "$T"
expect_error "user create, --out read-only" "$OUT" -- ck user create ro2 --cn Ro --email ro@example.org --out "$OUT"
grep -qi "read-only file system" "$WORK/err" || fail "read-only --out: $(cat "$WORK/err")"
expect_error "user renew, --out read-only" "$OUT" -- ck user renew ro1 --out "$OUT"
expect_error "crl build, --out read-only" "'$T'" -- ck crl build --out "$T/ca.crl"
grep -qi "read-only file system" "$WORK/err" || fail "read-only crl: $(cat "$WORK/err")"
assert_eq "$(sha256sum < "$T/ca.crl")" "$CRL_BEFORE" "the CRL on the read-only mount"
before=$(sqlite3 "$H2/certkeeper.db" .dump)
rc=0; "$CK_BIN" --home "$H2" user create r3 --cn R --email r@example.org --out "$WORK/hb" \
  > "$WORK/out" 2> "$WORK/err" || rc=$?
assert_eq "$rc" 1 "user create with a read-only home"
one_error "read-only home" "$H2"
grep -qi "read-only" "$WORK/err" || fail "read-only home: $(cat "$WORK/err")"
assert_eq "$(sqlite3 "$H2/certkeeper.db" .dump)" "$before" "the store on a read-only home"
pass "read-only home: exit 1, '$(cat "$WORK/err")'"
mount -o remount,rw "$T"
no_leftovers "$T" "read-only"
integrity "$H2/certkeeper.db"
