#!/usr/bin/env bash
# CRL build with N revoked certificates: `certkeeper crl build` against
# `openssl ca -gencrl`, in the same run. Usage: bench/crl_build.sh [N...]
# (default: 100000 1000000). Prints a table; never fails on timings.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

need /usr/bin/time sqlite3 openssl awk
need_certkeeper

RUNS=${RUNS:-3}  # timed builds per case; the median is reported
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer, got '$RUNS'"
SIZES=("$@")
[[ ${#SIZES[@]} -gt 0 ]] || SIZES=(100000 1000000)
for n in "${SIZES[@]}"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || die "sizes must be positive integers, got '$n'"
done

# revoke_sql N NOW SEQ: SQL adding N revoked certificates of user u0 (id 1,
# random 16-byte serials, notAfter in a year) and their released revocations
# (reason keyCompromise, release sequence SEQ), in one transaction.
revoke_sql() {
  local n=$1 now=$2 seq=$3 year=$((365 * 86400))
  cat <<SQL
PRAGMA busy_timeout = 10000;
BEGIN;
CREATE TEMP TABLE last_id AS SELECT coalesce(max(id), 0) AS id FROM certificates;
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < $n),
  rnd(b) AS MATERIALIZED (SELECT randomblob(16) FROM seq)
INSERT INTO certificates (serial, user_id, key_type, not_before, not_after, issued_at, der,
                          status, delivery)
SELECT CASE WHEN substr(b, 1, 1) = X'00' THEN CAST(X'01' || substr(b, 2) AS BLOB) ELSE b END,
       1, 'ec-p256', $now, $now + $year, $now, X'00', 'revoked', 'delivered'
  FROM rnd;
INSERT INTO revocations (cert_id, serial, not_after, user_id, reason, state, requested_at,
                         released_at, cause, release_seq)
SELECT id, serial, not_after, user_id, 1, 'released', $now, $now, 'immediate', $seq
  FROM certificates WHERE id > (SELECT id FROM last_id);
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
}

# median_of SECONDS...: the median, three decimals ("n/a" for none).
median_of() {
  printf '%s\n' "$@" | awk 'NF { v[++n] = $1 } END {
    if (n == 0) { print "n/a"; exit }
    # insertion sort: a handful of values
    for (i = 2; i <= n; i++) { x = v[i]; for (j = i - 1; j >= 1 && v[j] > x; j--) v[j + 1] = v[j]; v[j + 1] = x }
    if (n % 2) printf "%.3f\n", v[(n + 1) / 2]; else printf "%.3f\n", (v[n / 2] + v[n / 2 + 1]) / 2 }'
}

# certkeeper side: a home with a CA and user u0 (id 1), then N revoked
# certificates and their released revocations inserted in one transaction.
populate_certkeeper() {
  local h=$1 n=$2 now=$3
  revoke_sql "$n" "$now" 0 | sqlite3 "$h/certkeeper.db" >/dev/null
  local got
  got=$(sqlite3 "$h/certkeeper.db" "SELECT count(*) FROM revocations WHERE state = 'released'")
  [[ $got == "$n" ]] || die "populated $got revocations instead of $n"
}

# A tenth of the final CRL new since the last one (a mass revocation on top of
# a large CRL): N/9 more, released with the next release sequence, as `user
# revoke` would. Prints the number of entries the next CRL holds.
add_tenth() {
  local h=$1 n=$2 now=$3 extra=$(($2 / 9)) seq
  seq=$(sqlite3 "$h/certkeeper.db" \
    "UPDATE counters SET value = value + 1 WHERE name = 'release_seq' RETURNING value")
  revoke_sql "$extra" "$now" "$seq" | sqlite3 "$h/certkeeper.db" >/dev/null
  echo $((n + extra))
}

# peer side: the same serials as index.txt 'R' lines (with the reason, so both
# CRLs carry the same extensions) in an `openssl ca` directory.
populate_openssl() {
  local h=$1 d=$2 now=$3
  local year=$((365 * 86400)) na rd
  make_openssl_ca "$d"
  na=$(yymmdd $((now + year)))
  rd=$(yymmdd "$now")
  sqlite3 "$h/certkeeper.db" "SELECT hex(serial) FROM revocations ORDER BY cert_id" |
    awk -v na="$na" -v rd="$rd" 'BEGIN { OFS = "\t" }
      { print "R", na, rd ",keyCompromise", $1, "unknown", "/CN=user" NR }' >"$d/index.txt"
}

crl_entries() { # FILE FORM
  openssl crl -inform "$2" -in "$1" -noout -text 2>/dev/null | grep -c 'Serial Number' || true
}

ROWS=()
CHECKS=()
TARGETS=()
PROBLEMS=()
for n in "${SIZES[@]}"; do
  work=
  scratch work
  h=$work/home
  d=$work/openssl-ca
  mkdir -p "$h"
  now=$(date +%s)
  note "N=$n: preparing certkeeper home and openssl ca directory in $work"
  certkeeper_home "$h"
  t0=$(now_ns)
  populate_certkeeper "$h" "$n" "$now"
  populate_openssl "$h" "$d" "$now"
  note "N=$n: populated in $(awk -v a="$t0" -v b="$(now_ns)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }') s"

  # certkeeper, first build (no previous CRL), then a second one (self-check
  # against the previous CRL included). Each is timed RUNS times from the
  # same database state (restored from a copy, the copy flushed to disk
  # first) and the median kept: one run on a shared machine moves by 30 %.
  # build_once TAG FILE: sets ${TAG}_rc, _s (median), _kib (largest), _n.
  build_once() {
    local db=$h/certkeeper.db snap=$work/before-$1.db i times=() kib=0 rc=0
    sqlite3 "$db" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
    cp "$db" "$snap"
    for ((i = 1; i <= RUNS; i++)); do
      if ((i > 1)); then
        rm -f "$db-wal" "$db-shm"
        cp "$snap" "$db"
        # The state before the first run had no file at this --out either
        # (a file there that the store does not know is read and checked).
        rm -f "$h/$2"
      fi
      sync
      M_LOG=$work/$1.log measure "$CERTKEEPER" --home "$h" crl build --out "$h/$2" --der
      if [[ $M_RC != 0 ]]; then rc=$M_RC; break; fi
      times+=("$M_SEC")
      ((M_KIB > kib)) && kib=$M_KIB
    done
    rm -f "$snap"
    printf -v "${1}_rc" %s "$rc"; printf -v "${1}_kib" %s "$kib"
    printf -v "${1}_s" %s "$(median_of "${times[@]}")"
    local entries=n/a
    if [[ $rc == 0 ]]; then entries=$(crl_entries "$h/$2" DER); fi
    printf -v "${1}_n" %s "$entries"
    if [[ $rc != 0 ]]; then
      PROBLEMS+=("N=$n: certkeeper crl build ($1) exited $rc: $(tail -n 3 "$work/$1.log" | tr '\n' ' ')")
    fi
  }
  build_once ck1 ca.crl
  build_once ck2 ca2.crl
  total3=$(add_tenth "$h" "$n" "$now")
  build_once ck3 ca3.crl

  # peer
  os_times=() os_rc=0 os_kib=0
  for ((i = 1; i <= RUNS; i++)); do
    sync
    M_LOG=$work/openssl.log measure openssl ca -config "$d/ca.cnf" -gencrl -out "$d/peer.crl"
    if [[ $M_RC != 0 ]]; then os_rc=$M_RC; break; fi
    os_times+=("$M_SEC")
    ((M_KIB > os_kib)) && os_kib=$M_KIB
  done
  os_s=$(median_of "${os_times[@]}")
  os_n=n/a
  if [[ $os_rc == 0 ]]; then os_n=$(crl_entries "$d/peer.crl" PEM); fi
  if [[ $os_rc != 0 ]]; then
    PROBLEMS+=("N=$n: openssl ca -gencrl exited $os_rc: $(tail -n 3 "$work/openssl.log" | tr '\n' ' ')")
  fi

  show() { if [[ $1 == 0 ]]; then echo "$2"; else echo "FAILED($1)"; fi; }
  r1=n/a r2=n/a r3=n/a
  if [[ $ck1_rc == 0 && $os_rc == 0 ]]; then r1=$(ratio "$os_s" "$ck1_s"); fi
  if [[ $ck2_rc == 0 && $os_rc == 0 ]]; then r2=$(ratio "$os_s" "$ck2_s"); fi
  if [[ $ck3_rc == 0 && $os_rc == 0 ]]; then r3=$(ratio "$os_s" "$ck3_s"); fi
  ROWS+=("$(printf '| %9s | %19s | %16s | %21s | %15s | %9s | %11s | %15s | %13s | %12s |' \
    "$n" "$(show "$ck1_rc" "$ck1_s") ($(kib_to_mib "$ck1_kib"))" \
    "$(show "$ck2_rc" "$ck2_s") ($(kib_to_mib "$ck2_kib"))" \
    "$(show "$ck3_rc" "$ck3_s") ($(kib_to_mib "$ck3_kib"))" "$total3" \
    "$(show "$os_rc" "$os_s")" "$(kib_to_mib "$os_kib")" "$r1" "$r2" "$r3")")
  # Each certkeeper build adds its CRL canary (README, `crl build`); none
  # expires within the run, so the k-th build lists k of them.
  for pair in "certkeeper 1st:$ck1_n:$((n + 1))" "certkeeper 2nd:$ck2_n:$((n + 2))" \
              "certkeeper 10 % new:$ck3_n:$((total3 + 3))" "openssl:$os_n:$n"; do
    IFS=: read -r who got want <<<"$pair"
    if [[ $got == "$want" ]]; then
      CHECKS+=("N=$n: $who CRL has $got 'Serial Number' lines (expected $want): ok")
    else
      CHECKS+=("N=$n: $who CRL has $got 'Serial Number' lines (expected $want): MISMATCH")
      PROBLEMS+=("N=$n: $who CRL has $got entries instead of $want")
    fi
  done

  # Targets: 100,000 entries <= 0.25 s; 1,000,000 entries <= 2 s and <= 512 MiB.
  lim_s='' lim_mib=''
  case $n in
    100000) lim_s=0.25 ;;
    1000000) lim_s=2 lim_mib=512 ;;
  esac
  if [[ -n $lim_s ]]; then
    for b in 1st 2nd "10 % new"; do
      case $b in
        1st) s=$ck1_s kib=$ck1_kib rc=$ck1_rc ;;
        2nd) s=$ck2_s kib=$ck2_kib rc=$ck2_rc ;;
        *) s=$ck3_s kib=$ck3_kib rc=$ck3_rc ;;
      esac
      mib=$(kib_to_mib "$kib")
      if [[ $rc != 0 ]]; then
        TARGETS+=("N=$n, $b build: FAILED (exit $rc)")
        continue
      fi
      line="N=$n, $b build: ${s} s (target <= $lim_s s: $(verdict "$s" "$lim_s"))"
      case $b in 1st) rr=$r1 ;; 2nd) rr=$r2 ;; *) rr=$r3 ;; esac
      summary "CRL build, $n entries, $b" "$s s, $mib MiB" "openssl ca -gencrl $os_s s" "${rr}x" \
        "<= $lim_s s${lim_mib:+, <= $lim_mib MiB}" \
        "$(if le "$s" "$lim_s" && { [[ -z $lim_mib ]] || le "$mib" "$lim_mib"; }; then echo met; else echo MISSED; fi)"
      if [[ -n $lim_mib ]]; then
        line+=", $mib MiB (target <= $lim_mib MiB: $(verdict "$mib" "$lim_mib"))"
      fi
      TARGETS+=("$line")
    done
  fi
done

echo "CRL build: certkeeper crl build --der (median of $RUNS runs from the same state) vs openssl ca -gencrl (median of $RUNS runs), same machine, same serials"
machine_line
echo
echo "1st: every entry new (no previous CRL); 2nd: nothing new (self-check against the 1st);"
echo "10 % new: N/9 more revocations released after the 2nd, so a tenth of the CRL is new."
echo '|   entries | 1st build s (MiB) | 2nd build s (MiB) | 10 % new build s (MiB) | 10 % new entries | openssl s | openssl MiB | ratio 1st (o/ck) | ratio 2nd | ratio 10 % |'
echo '|----------:|------------------:|------------------:|-----------------------:|-----------------:|----------:|------------:|-----------------:|----------:|-----------:|'
for r in "${ROWS[@]}"; do echo "$r"; done
echo
echo "Entry counts (openssl crl -noout -text | grep -c 'Serial Number'):"
for c in "${CHECKS[@]}"; do echo "  $c"; done
echo
echo "Targets: 100,000 entries <= 0.25 s; 1,000,000 entries <= 2 s and <= 512 MiB"
if [[ ${#TARGETS[@]} -eq 0 ]]; then
  echo "  (no target for these sizes)"
else
  for t in "${TARGETS[@]}"; do echo "  $t"; done
fi
if [[ ${#PROBLEMS[@]} -gt 0 ]]; then
  echo
  echo "Problems:"
  for p in "${PROBLEMS[@]}"; do echo "  $p"; done
fi
