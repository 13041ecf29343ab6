#!/usr/bin/env bash
# Finding what expires within 14 days among N active certificates:
# `certkeeper expiring --within 14d --json` against an awk scan of an
# `openssl ca` index.txt (what easy-rsa and openssl-ca setups do), in the
# same run. Usage: bench/expiring.sh [N] (default 1000000). Never fails on timings.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

need sqlite3 openssl awk python3
need_certkeeper

N=${1:-1000000}
RUNS=${RUNS:-20}
WINDOW_DAYS=14
[[ $N =~ ^[1-9][0-9]*$ ]] || die "N must be a positive integer, got '$N'"
USERS=10
# Bytes of the stored certificate DER per row (zeros). 1 by default (X'00');
# a real ec-p256 client certificate is about 600, and `expiring` reads the column.
DER_BYTES=${DER_BYTES:-1}
[[ $DER_BYTES =~ ^[1-9][0-9]*$ ]] || die "DER_BYTES must be a positive integer, got '$DER_BYTES'"

work=
scratch work
h=$work/home
mkdir -p "$h"
now=$(date +%s)
note "N=$N: preparing certkeeper home and index.txt in $work"
certkeeper_home "$h"

# N active certificates over $USERS users (u0 from `user create`, u1.. inserted
# here), notAfter spread uniformly over the next 730 days (so ~14/730 = 1.9%
# fall inside the window).
span=$((730 * 86400))
t0=$(now_ns)
sqlite3 "$h/certkeeper.db" >/dev/null <<SQL
PRAGMA busy_timeout = 10000;
BEGIN;
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < $((USERS - 1)))
INSERT INTO users (name, cn, email, created_at)
SELECT 'u' || i, 'User ' || i, 'u' || i || '@example.org', $now FROM seq;
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < $N),
  rnd(i, b) AS MATERIALIZED (SELECT i, randomblob(16) FROM seq)
INSERT INTO certificates (serial, user_id, key_type, not_before, not_after, issued_at, der,
                          status, delivery)
SELECT CASE WHEN substr(b, 1, 1) = X'00' THEN CAST(X'01' || substr(b, 2) AS BLOB) ELSE b END,
       1 + i % $USERS, 'ec-p256', $now, $now + 1 + (i - 1) * $span / $N, $now, zeroblob($DER_BYTES),
       'active', 'delivered'
  FROM rnd;
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
got=$(sqlite3 "$h/certkeeper.db" "SELECT count(*) FROM certificates WHERE status = 'active'")
[[ $got == $((N + 1)) ]] || die "populated $got active certificates instead of $((N + 1))"

# The peer's index.txt: the same certificates as 'V' lines.
sqlite3 -separator ' ' "$h/certkeeper.db" \
  "SELECT c.not_after, hex(c.serial), u.name FROM certificates c JOIN users u ON u.id = c.user_id
    WHERE c.status = 'active' ORDER BY c.id" |
  awk 'BEGIN { OFS = "\t" }
       { print "V", $1, "", $2, "unknown", "/CN=" $3 "/emailAddress=" $3 "@example.org" }' >"$work/index.epoch"
# Convert the epoch notAfter column to YYMMDDHHMMSSZ (python: one process for all lines).
python3 - "$work/index.epoch" "$work/index.txt" <<'PY'
import sys, time
with open(sys.argv[1]) as src, open(sys.argv[2], "w") as dst:
    for line in src:
        f = line.rstrip("\n").split("\t")
        f[1] = time.strftime("%y%m%d%H%M%SZ", time.gmtime(int(f[1])))
        dst.write("\t".join(f) + "\n")
PY
rm -f "$work/index.epoch"
note "N=$N: populated in $(awk -v a="$t0" -v b="$(now_ns)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }') s"

# The peer: the cut-off is computed once here (the scan is what is timed).
cut=$(yymmdd $((now + WINDOW_DAYS * 86400)))
cat >"$work/expiring.awk" <<'AWK'
BEGIN { FS = "\t" }
$1 == "V" && $2 <= cut { print $4, $6, $2 }
AWK

ck_cmd=("$CERTKEEPER" --home "$h" expiring --within "${WINDOW_DAYS}d" --json)
peer_cmd=(awk -v "cut=$cut" -f "$work/expiring.awk" "$work/index.txt")

# Sanity: both find the same number of certificates.
PROBLEMS=()
ck_found=n/a
if "${ck_cmd[@]}" >"$work/ck.json" 2>"$work/ck.err"; then
  ck_found=$(python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(len(d) if isinstance(d, list) else len(next(v for v in d.values() if isinstance(v, list))))' "$work/ck.json" 2>/dev/null || echo unparsable)
else
  PROBLEMS+=("certkeeper expiring exited $?: $(tail -n 3 "$work/ck.err" | tr '\n' ' ')")
fi
peer_found=$("${peer_cmd[@]}" | wc -l)
if [[ $ck_found != "$peer_found" ]]; then
  PROBLEMS+=("certkeeper listed $ck_found certificates, the awk scan $peer_found")
fi

# times_ms OUT CMD... : RUNS wall times in ms, one per line (hyperfine when
# present, else a loop around date +%s%N). Returns non-zero if CMD fails.
times_ms() {
  local out=$1
  shift
  if command -v hyperfine >/dev/null; then
    hyperfine -N --warmup 2 --runs "$RUNS" --export-json "$out.json" "$(printf '%q ' "$@")" \
      >"$out.hyperfine" 2>&1 || return 1
    python3 -c 'import json, sys
for t in json.load(open(sys.argv[1]))["results"][0]["times"]: print(t * 1000)' "$out.json" >"$out"
  else
    local i t0 t1
    "$@" >/dev/null 2>&1 || return 1
    : >"$out"
    for ((i = 0; i < RUNS; i++)); do
      t0=$(now_ns)
      "$@" >/dev/null 2>&1 || return 1
      t1=$(now_ns)
      echo $(((t1 - t0) / 1000))e-3 | awk '{ printf "%.3f\n", $1 }' >>"$out"
    done
  fi
}

timer=loop
command -v hyperfine >/dev/null && timer="hyperfine $(hyperfine --version | cut -d' ' -f2) -N --warmup 2"
ck_med=FAILED ck_mm="- -"
if times_ms "$work/ck.ms" "${ck_cmd[@]}"; then
  ck_med=$(median_ms "$work/ck.ms") ck_mm=$(minmax_ms "$work/ck.ms")
else
  PROBLEMS+=("certkeeper expiring failed under the timer: $(tail -n 3 "$work/ck.ms.hyperfine" 2>/dev/null | tr '\n' ' ')")
fi
peer_med=FAILED peer_mm="- -"
if times_ms "$work/peer.ms" "${peer_cmd[@]}"; then
  peer_med=$(median_ms "$work/peer.ms") peer_mm=$(minmax_ms "$work/peer.ms")
fi

# Peak RSS of one run each.
M_LOG=/dev/null measure "${ck_cmd[@]}"
ck_mib=$(kib_to_mib "$M_KIB")
M_LOG=/dev/null measure "${peer_cmd[@]}"
peer_mib=$(kib_to_mib "$M_KIB")

r=n/a
[[ $ck_med != FAILED && $peer_med != FAILED ]] && r=$(ratio "$peer_med" "$ck_med")

echo "expiring within ${WINDOW_DAYS}d among $N active certificates (der column: $DER_BYTES byte(s) each): median of $RUNS runs ($timer)"
machine_line
echo
echo '| certificates | found | certkeeper median ms | certkeeper min..max ms | certkeeper MiB | awk median ms | awk min..max ms | awk MiB | ratio (awk/ck) |'
echo '|-------------:|------:|---------------------:|-----------------------:|---------------:|--------------:|----------------:|--------:|---------------:|'
printf '| %12s | %5s | %20s | %22s | %14s | %13s | %15s | %7s | %14s |\n' \
  "$N" "$ck_found" "$ck_med" "${ck_mm/ /..}" "$ck_mib" "$peer_med" "${peer_mm/ /..}" "$peer_mib" "$r"
echo
echo "certkeeper: certkeeper --home H expiring --within ${WINDOW_DAYS}d --json >/dev/null"
echo "peer:       awk -v cut=$cut -f expiring.awk index.txt >/dev/null   ($(readlink -f "$(command -v awk)" | xargs basename); program: \$1 == \"V\" && \$2 <= cut { print \$4, \$6, \$2 })"
print_target 50 "$ck_med" "expiring --json, $N certificates" "awk over index.txt $peer_med ms" "${r}x"
print_problems
