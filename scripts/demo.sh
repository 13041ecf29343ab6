#!/bin/bash
# A short tour on the embedded default (SQLite) in a fresh home folder:
# a CA, two users, a renewal whose revocation is held, expiring, crl status.
set -eu
CK="${1:-build/certkeeper}"
HOME_DIR="$(mktemp -d "${TMPDIR:-/tmp}/certkeeper-demo.XXXXXX")"
run() { printf "$ certkeeper"; printf " %q" "$@"; echo; "$CK" --home "$HOME_DIR" "$@"; echo; }
# The CA key is encrypted. Timers and scripts read the passphrase from a 0600
# file that certkeeper.toml names; on a terminal, with neither, ca init asks.
( umask 077; head -c 24 /dev/urandom | base64 > "$HOME_DIR/ca.pass" )
printf '[ca]\npassphrase_file = "ca.pass"\n' > "$HOME_DIR/certkeeper.toml"
echo "# the CA passphrase is in $HOME_DIR/ca.pass (0600), named by $HOME_DIR/certkeeper.toml"
run ca init --name "Demo CA"
run user create alice --cn "Alice Example" --email alice@example.org --org Example --country DE
run user create bob --cn "Bob Example" --email bob@example.org --validity 10d
run user renew alice --set ou=Ops --ticket T100
run crl build
run expiring --within 14d
run crl status
run user confirm alice
run crl build
echo "demo home: $HOME_DIR (delete it when done)"
