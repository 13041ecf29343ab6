#!/usr/bin/env bash
# The store backends side by side (issue 21): single commands, a CRL build of
# N revocations, and renewals by K operators at once, on SQLite and on
# PostgreSQL 15 (a throwaway cluster on loopback, tests/pg/server.sh, fsync
# off like the test cluster: the figures compare the stores' code paths, not
# disks). Usage: bench/store_backends.sh [N] (default 1000000).
# Environment: RUNS (single-command samples, default 9), OPERATORS ("1 2 4"),
# SECONDS_EACH (per operator count, default 10), IMPORT_USERS (default 1000). Prints a table; never fails
# on timings.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

need /usr/bin/time sqlite3 psql openssl awk
need_certkeeper
N=${1:-1000000}
RUNS=${RUNS:-9}
OPERATORS=${OPERATORS:-1 2 4}
SECONDS_EACH=${SECONDS_EACH:-10}
IMPORT_USERS=${IMPORT_USERS:-1000}

work=
scratch work
chmod 755 "$work"  # the postgres user reaches its cluster folder inside
pg=$work/pg
"$BENCH_ROOT/tests/pg/server.sh" start "$pg" || die "PostgreSQL did not start"
BENCH_CLEANUP+=("$pg")
trap '"$BENCH_ROOT/tests/pg/server.sh" stop "$pg" || true; bench_cleanup' EXIT
PG_BASE=$(cat "$pg/url")

# store_url BACKEND HOME: the URL certkeeper is given.
store_url() {
  if [[ $1 == sqlite ]]; then echo "sqlite:$2/certkeeper.db"; else echo "$PG_BASE/bench_$3"; fi
}
# sql BACKEND URL SQL
sql() {
  if [[ $1 == sqlite ]]; then sqlite3 "${2#sqlite:}" "$3"; else psql -qAtX "$2" -c "$3"; fi
}
# populate BACKEND URL N NOW: N revoked certificates of user u0 (id 1) and
# their released revocations, in one transaction.
populate() {
  local b=$1 url=$2 n=$3 now=$4 year=$((365 * 86400))
  if [[ $b == sqlite ]]; then
    sqlite3 "${url#sqlite:}" <<SQL >/dev/null
BEGIN;
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < $n),
  rnd(b) AS MATERIALIZED (SELECT randomblob(16) FROM seq)
INSERT INTO certificates (serial, user_id, key_type, not_before, not_after, issued_at, der, status, delivery)
SELECT CASE WHEN substr(b, 1, 1) = X'00' THEN CAST(X'01' || substr(b, 2) AS BLOB) ELSE b END,
       1, 'ec-p256', $now, $now + $year, $now, X'00', 'revoked', 'delivered' FROM rnd;
INSERT INTO revocations (cert_id, serial, not_after, user_id, reason, state, requested_at, released_at, cause, release_seq)
SELECT id, serial, not_after, user_id, 1, 'released', $now, $now, 'immediate', 0 FROM certificates WHERE der = X'00';
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
  else
    psql -qX "$url" <<SQL >/dev/null
BEGIN;
INSERT INTO certificates (serial, user_id, key_type, not_before, not_after, issued_at, der, status, delivery)
SELECT CASE WHEN get_byte(b, 0) = 0 THEN set_byte(b, 0, 1) ELSE b END,
       1, 'ec-p256', $now, $now + $year, $now, '\x00'::bytea, 'revoked', 'delivered'
  FROM (SELECT uuid_send(gen_random_uuid()) AS b FROM generate_series(1, $n)) s;
INSERT INTO revocations (cert_id, serial, not_after, user_id, reason, state, requested_at, released_at, cause, release_seq)
SELECT id, serial, not_after, user_id, 1, 'released', $now, $now, 'immediate', 0 FROM certificates WHERE der = '\x00'::bytea;
COMMIT;
VACUUM ANALYZE;
SQL
  fi
}

declare -A R
for b in sqlite postgresql; do
  h=$work/home-$b
  mkdir -p "$h"
  url=$(store_url $b "$h" main)
  ckb() { "$CERTKEEPER" --home "$h" --store "$url" "$@"; }
  if [[ $b == postgresql ]]; then
    psql -qX "$PG_BASE/postgres" -c "CREATE DATABASE bench_main" >/dev/null
    ckb store migrate >/dev/null
  fi
  ckb ca init --name "Bench CA" --no-passphrase >/dev/null 2>&1
  ckb user create u0 --cn U0 --email u0@example.org --out "$work/b-$b" --password-file "$work/p-$b-u0" >/dev/null
  note "$b: single commands ($RUNS each)"
  : >"$work/create-$b"; : >"$work/renew-$b"
  for ((i = 1; i <= RUNS; i++)); do
    M_LOG=$work/log measure "$CERTKEEPER" --home "$h" --store "$url" user create "c$i" --cn "C $i" \
      --email "c$i@example.org" --out "$work/b-$b" --password-file "$work/p-$b-c$i"
    [[ $M_RC == 0 ]] || die "$b user create: $(cat "$work/log")"
    awk -v s="$M_SEC" 'BEGIN { print s * 1000 }' >>"$work/create-$b"
    M_LOG=$work/log measure "$CERTKEEPER" --home "$h" --store "$url" user renew "c$i" \
      --out "$work/b-$b" --password-file "$work/p-$b-r$i"
    [[ $M_RC == 0 ]] || die "$b user renew: $(cat "$work/log")"
    awk -v s="$M_SEC" 'BEGIN { print s * 1000 }' >>"$work/renew-$b"
  done
  R[create_$b]=$(median_ms "$work/create-$b")
  R[renew_$b]=$(median_ms "$work/renew-$b")

  note "$b: user import of $IMPORT_USERS users"
  {
    echo "user,cn,email"
    for ((i = 1; i <= IMPORT_USERS; i++)); do echo "imp$i,Imported $i,imp$i@example.org"; done
  } >"$work/import.csv"
  mkdir -p "$work/pw-$b"
  M_LOG=$work/log measure "$CERTKEEPER" --home "$h" --store "$url" user import "$work/import.csv" \
    --out "$work/imp-$b" --password-file "$work/pw-$b"
  [[ $M_RC == 0 ]] || die "$b user import: $(tail -3 "$work/log")"
  R[import_$b]=$(awk -v n="$IMPORT_USERS" -v s="$M_SEC" 'BEGIN { printf "%.1f", n / s }')

  note "$b: CRL build of $N revocations"
  populate $b "$url" "$N" "$(date +%s)"
  M_LOG=$work/log measure "$CERTKEEPER" --home "$h" --store "$url" crl build --out "$work/crl-$b.der" --der
  [[ $M_RC == 0 ]] || die "$b crl build: $(tail -3 "$work/log")"
  R[crl_$b]=$M_SEC
  R[crlkib_$b]=$M_KIB
  entries=$(openssl crl -inform DER -in "$work/crl-$b.der" -noout -text | grep -c 'Serial Number')
  R[crln_$b]=$entries

  # K operators renew users of their own for SECONDS_EACH seconds.
  for k in $OPERATORS; do
    note "$b: $k operator(s) renewing for ${SECONDS_EACH}s"
    for ((o = 1; o <= k; o++)); do
      ckb user create "k${k}o$o" --cn "K $k O $o" --email "k${k}o$o@example.org" --out "$work/b-$b" \
        --password-file "$work/p-$b-k${k}o$o" >/dev/null
    done
    pids=()
    for ((o = 1; o <= k; o++)); do
      (
        end=$((SECONDS + SECONDS_EACH)); n=0
        while ((SECONDS < end)); do
          n=$((n + 1))
          ckb user renew "k${k}o$o" --out "$work/b-$b" --password-file "$work/p-$b-k${k}o$o-$n" >/dev/null 2>&1 || exit 1
        done
        echo "$n" >"$work/ops-$b-$k-$o"
      ) &
      pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || die "$b: a renewal by $k operators failed"; done
    total=$(cat "$work"/ops-$b-$k-* | awk '{ s += $1 } END { print s }')
    R[ops_${b}_$k]=$(awk -v t="$total" -v s="$SECONDS_EACH" 'BEGIN { printf "%.1f", t / s }')
  done
done

machine_line
printf '%-44s %12s %12s %8s\n' "figure" "SQLite" "PostgreSQL" "PG/SQLite"
row() { printf '%-44s %12s %12s %8s\n' "$1" "$2" "$3" "$(ratio "$3" "$2")"; }
row "user create, median ms ($RUNS runs)" "${R[create_sqlite]}" "${R[create_postgresql]}"
row "user renew, median ms ($RUNS runs)" "${R[renew_sqlite]}" "${R[renew_postgresql]}"
row "user import of $IMPORT_USERS users (bundles), users/s" "${R[import_sqlite]}" "${R[import_postgresql]}"
row "crl build of ${R[crln_sqlite]}/${R[crln_postgresql]} entries, s" "${R[crl_sqlite]}" "${R[crl_postgresql]}"
row "crl build peak RSS, MiB" "$(kib_to_mib "${R[crlkib_sqlite]}")" "$(kib_to_mib "${R[crlkib_postgresql]}")"
for k in $OPERATORS; do
  row "renewals/s by $k operator(s) at once" "${R[ops_sqlite_$k]}" "${R[ops_postgresql_$k]}"
done
echo
echo "targets: PostgreSQL within 2x of SQLite for single commands; CRL build of 1,000,000 on PostgreSQL <= 3 s"
echo "user create:  $(verdict "$(ratio "${R[create_postgresql]}" "${R[create_sqlite]}")" 2)"
echo "user renew:   $(verdict "$(ratio "${R[renew_postgresql]}" "${R[renew_sqlite]}")" 2)"
echo "crl build:    $(verdict "${R[crl_postgresql]}" 3) (${R[crl_postgresql]} s for ${R[crln_postgresql]} entries)"
