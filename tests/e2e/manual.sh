#!/bin/bash
# The manual and the shell completion, as an installed system uses them:
# every page the binary writes renders with man(1) without a groff warning
# and has a NAME line whatis can index; bash's own completion machinery,
# with the script the binary writes, offers commands, options, choices, the
# store's user names and plan files; zsh reads its script; `--help` shows no
# parser artefacts and a mistyped command is named with the closest one.
. "$(dirname "$0")/lib.sh" "$1"
for t in man lexgrog zsh; do
  command -v $t > /dev/null || fail "$t is not installed (scripts/install-deps.sh)"
done

# --- man pages
"$CK_BIN" __man "$WORK/man" --date 2026-12-03
groups=$("$CK_BIN" --help | awk '/^Subcommands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')
[ -n "$groups" ] || fail "no commands in --help"
for g in "" $groups; do
  page="$WORK/man/certkeeper${g:+-$g}.1"
  [ -s "$page" ] || fail "no page for '${g:-certkeeper}'"
  # Warnings (-ww) of groff, as man renders the page for a terminal.
  MANWIDTH=80 man --warnings=w -l "$page" > "$WORK/page.txt" 2> "$WORK/page.err" || fail "man -l $page"
  [ ! -s "$WORK/page.err" ] || fail "groff warns on $page: $(head -5 "$WORK/page.err")"
  lexgrog "$page" > "$WORK/whatis" || fail "lexgrog cannot read the NAME of $page"
  grep -q "certkeeper${g:+-$g} - ." "$WORK/whatis" || fail "whatis line of $page: $(cat "$WORK/whatis")"
done
MANWIDTH=80 man -l "$WORK/man/certkeeper-user.1" > "$WORK/user.txt" 2> /dev/null
for opt in --cn --email --password-file --p12 --key-type --set --validity; do
  grep -q -- "$opt" "$WORK/user.txt" || fail "certkeeper-user(1) does not describe $opt"
done
grep -q "certkeeper user renew" "$WORK/user.txt" || fail "certkeeper-user(1) has no 'user renew'"
pass "man pages: $(echo $groups | wc -w) command pages and certkeeper(1) render without warnings and index in whatis"

# --- help text
for words in "" "user renew" "user create" "crl build" "rollout apply" "probe" "serve" "store copy"; do
  # shellcheck disable=SC2086
  "$CK_BIN" $words --help > "$WORK/help" || fail "'$words --help'"
  if grep -nE '=\[\]|TEXT:|UINT:|INT:' "$WORK/help"; then fail "'$words --help' shows parser artefacts"; fi
done
"$CK_BIN" user renew --help | grep -q -- "--set FIELD=VALUE \.\.\." || fail "user renew --help: --set"
pass "--help shows no parser artefacts"

rc=0; "$CK_BIN" usr list > "$WORK/out" 2> "$WORK/err" || rc=$?
assert_eq "$rc" 2 "a mistyped command: usage error"
grep -qx "certkeeper: error: unknown command 'usr' (did you mean 'user'?)" "$WORK/err" || fail "usr: $(cat "$WORK/err")"
rc=0; "$CK_BIN" user shwo alice 2> "$WORK/err" || rc=$?
assert_eq "$rc" 2 "a mistyped subcommand: usage error"
grep -qx "certkeeper: error: unknown command 'user shwo' (did you mean 'user show'?)" "$WORK/err" || fail "shwo: $(cat "$WORK/err")"
rc=0; "$CK_BIN" user 2> "$WORK/err" || rc=$?
assert_eq "$rc" 2 "a group without a command: usage error"
grep -q "^certkeeper: error: 'user' needs a command: create, .*renew, " "$WORK/err" || fail "user: $(cat "$WORK/err")"
grep -qx 'Run `certkeeper user --help` for usage.' "$WORK/err" || fail "user: the help to read: $(cat "$WORK/err")"
pass "mistyped and missing commands are named, with the closest match"

# --- bash completion, through bash's own `complete` and a shell that has it
mkdir -p "$WORK/bin"
ln -s "$CK_BIN" "$WORK/bin/certkeeper"
"$CK_BIN" __complete script bash > "$WORK/certkeeper.bash"
ck ca init --name "Completion CA" > /dev/null 2>&1
for u in alice albert bob; do
  ck user create "$u" --cn "$u" --email "$u@example.org" --out "$WORK/b" --password-file "$WORK/$u.pw" > /dev/null
done
mkdir -p "$WORK/plans/sub"
touch "$WORK/plans/site.toml" "$WORK/plans/notes.txt"
# completes WORDS...: what bash offers after the words (the last may be a
# partial word), one per line, sorted.
completes() {
  PATH="$WORK/bin:$PATH" bash -c '
    . "$1"; shift
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
    COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
    _certkeeper 2> /dev/null
    printf "%s\n" "${COMPREPLY[@]}"' _ "$WORK/certkeeper.bash" certkeeper "$@" | sort
}
assert_eq "$(PATH="$WORK/bin:$PATH" bash -c ". '$WORK/certkeeper.bash'; complete -p certkeeper")" \
  "complete -F _certkeeper certkeeper" "complete -p"
assert_eq "$(completes us)" "user" "a command"
assert_eq "$(completes user re | tr '\n' ' ')" "renew revoke " "subcommands"
completes user create --pa | grep -qx -- "--password-file" || fail "options: $(completes user create --pa)"
completes user list --ho | grep -qx -- "--home" || fail "global options"
assert_eq "$(completes user create --p12 "" | tr '\n' ' ')" "compat modern " "choices"
assert_eq "$(completes --home "$H" user show al | tr '\n' ' ')" "albert alice " "user names from the store"
assert_eq "$(CERTKEEPER_HOME="$H" completes user renew b)" "bob" "user names, home from the environment"
assert_eq "$(completes --home "$WORK/nowhere" user show "")" "" "no store: no names, no error"
[ ! -e "$WORK/nowhere" ] || fail "completion created a home"
assert_eq "$(cd "$WORK/plans" && completes rollout apply "" | tr '\n' ' ')" "site.toml sub " "plan files (and folders)"
assert_eq "$(completes rollout apply "$WORK/plans/s" | tr '\n' ' ')" "$WORK/plans/site.toml $WORK/plans/sub " "plan files by path"
pass "bash completion: commands, options, choices, user names, plan files"

# --- zsh: the script parses, and declares itself for certkeeper
"$CK_BIN" __complete script zsh > "$WORK/_certkeeper"
zsh -n "$WORK/_certkeeper" || fail "zsh cannot parse the completion script"
head -1 "$WORK/_certkeeper" | grep -qx "#compdef certkeeper" || fail "zsh script header"
pass "zsh completion script parses"

# The hidden commands' bad input: one line, exit 1.
expect_error "completion script for another shell" "bash or zsh" -- "$CK_BIN" __complete script fish
expect_error "an unknown completion kind" "unknown kind 'nope'" -- "$CK_BIN" __complete nope
touch "$WORK/a-file"
expect_error "man pages into a file" "$WORK/a-file/man" -- "$CK_BIN" __man "$WORK/a-file/man"
