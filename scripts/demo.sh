#!/bin/bash
# A short tour on the embedded default (SQLite) in a fresh home folder:
# a CA, two users, a renewal whose revocation is held, expiring, crl status.
set -eu
CK="${1:-build/certkeeper}"
HOME_DIR="$(mktemp -d "${TMPDIR:-/tmp}/certkeeper-demo.XXXXXX")"
run() { printf "$ certkeeper"; printf " %q" "$@"; echo; "$CK" --home "$HOME_DIR" "$@"; echo; }
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
