#!/bin/bash
# Inputs are read up to a documented limit (docs/limits.md), never until
# memory runs out: a file past it, /dev/zero, standard input or a FIFO that
# never ends is refused with one line naming the input and the limit, exit 1,
# the store unchanged, in bounded memory.
. "$(dirname "$0")/lib.sh" "$1"

# Before the limits, these read until std::bad_alloc: keep that from taking
# the machine's memory when the test runs against such a binary.
# (Not under ASan, whose shadow memory needs far more address space.)
limited() { ( sanitized || ulimit -v 2097152; exec "$@" ); }
# max_rss_kb command...: runs it limited (any exit code), prints its peak RSS in KiB.
max_rss_kb() {
  local limit='ulimit -v 2097152;'
  if sanitized; then limit=''; fi
  /usr/bin/time -f %M -o "$WORK/rss" bash -c "$limit"' exec "$@"' limited "$@" > /dev/null 2>&1 || true
  tail -1 "$WORK/rss"
}

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 -subj "/CN=Old CA" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
  -keyout "$WORK/ca.key" -out "$WORK/ca.pem" 2>/dev/null

# --- certificates: 16 MiB
expect_error "fingerprint /dev/zero" "'/dev/zero': larger than 16 MiB" -- limited "$CK_BIN" --home "$H" fingerprint /dev/zero
rss=$(max_rss_kb "$CK_BIN" --home "$H" fingerprint /dev/zero)
if ! sanitized; then
  [ "$rss" -gt 16384 ] && [ "$rss" -lt 65536 ] || fail "fingerprint /dev/zero peaked at $rss KiB"
fi
pass "fingerprint /dev/zero peaks at $rss KiB"
expect_error "fingerprint - < /dev/zero" "standard input: larger than 16 MiB" -- \
  limited bash -c '"$0" --home "$1" fingerprint - < /dev/zero' "$CK_BIN" "$H"
mkfifo "$WORK/fifo"
yes "certificate" > "$WORK/fifo" &
YES=$!
CLEANUP_CMDS+=("kill $YES 2>/dev/null")
expect_error "fingerprint of an endless FIFO" "'$WORK/fifo': larger than 16 MiB" -- limited "$CK_BIN" --home "$H" fingerprint "$WORK/fifo"
wait "$YES" 2>/dev/null || true  # ends on SIGPIPE once the reader is gone
truncate -s 17M "$WORK/big.pem"
expect_error "fingerprint of a 17 MiB file" "'$WORK/big.pem': larger than 16 MiB" -- limited "$CK_BIN" --home "$H" fingerprint "$WORK/big.pem"
# Under the limit nothing changes: a PEM bundle padded to 15 MiB with text
# outside its block still reads (openssl agrees on the fingerprint).
{ yes "text outside the PEM block" | head -c $((15 * 1024 * 1024)); echo; cat "$WORK/ca.pem"; } > "$WORK/padded.pem"
want=$(openssl x509 -in "$WORK/ca.pem" -noout -fingerprint -sha256 | cut -d= -f2)
assert_eq "$(ck fingerprint "$WORK/padded.pem")" "$want" "fingerprint of a 15 MiB file"
assert_eq "$(ck fingerprint - < "$WORK/padded.pem")" "$want" "fingerprint of 15 MiB on standard input"
pass "15 MiB certificate inputs still read"

# --- index.txt: 256 MiB, before anything is imported
truncate -s 257M "$WORK/index.txt"
H="$WORK/home-import"
expect_error "ca import of a 257 MiB index.txt" "'$WORK/index.txt': larger than 256 MiB" -- \
  limited "$CK_BIN" --home "$H" ca import --no-passphrase --cert "$WORK/ca.pem" --key "$WORK/ca.key" --index "$WORK/index.txt"
[ ! -e "$H" ] || fail "a refused ca import left $(find "$H")"
H="$WORK/home"

# --- CSV: 256 MiB
ck ca init --name "E2E CA" > /dev/null 2>&1
truncate -s 257M "$WORK/users.csv"
expect_error "user import of a 257 MiB CSV" "'$WORK/users.csv': larger than 256 MiB" -- \
  limited "$CK_BIN" --home "$H" user import "$WORK/users.csv" --out "$WORK/b"
[ ! -e "$WORK/b" ] || fail "a refused import wrote $(ls "$WORK/b")"

# --- TOML (configuration, rollout plan): 16 MiB
expect_error "--config /dev/zero" "'/dev/zero': larger than 16 MiB" -- \
  limited "$CK_BIN" --home "$H" --config /dev/zero user list
truncate -s 17M "$WORK/plan.toml"
expect_error "rollout of a 17 MiB plan" "'$WORK/plan.toml': larger than 16 MiB" -- \
  limited "$CK_BIN" --home "$H" rollout plan "$WORK/plan.toml"
expect_error "rollout of an endless plan" "'/dev/zero': larger than 16 MiB" -- \
  limited "$CK_BIN" --home "$H" rollout status /dev/zero
