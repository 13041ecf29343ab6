#!/usr/bin/env python3
"""Checks a store and the CRL files written while many certkeeper processes
worked on it at once (tests/e2e/store_concurrency.sh). Reads the store's
tables from files of '|'-separated rows (dumped with sqlite3 or psql) and the
CRLs with `openssl crl`. Prints one line per violated invariant; exit 1 if any.

usage: store_invariants.py DUMP_DIR CRL_FILE...
"""
import re
import subprocess
import sys


def rows(path, width):
    out = []
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line:
                parts = line.split("|")
                if len(parts) != width:
                    sys.exit(f"{path}: row of {len(parts)} columns, expected {width}: {line}")
                out.append(parts)
    return out


def crl_file(path):
    text = subprocess.run(["openssl", "crl", "-in", path, "-noout", "-text"], check=True,
                          capture_output=True, text=True).stdout
    number = int(re.search(r"X509v3 CRL Number: *\n *(\S+)", text).group(1))
    serials = set(s.upper() for s in re.findall(r"Serial Number: *([0-9A-Fa-f]+)", text))
    return number, serials


def main():
    dump, crl_paths = sys.argv[1], sys.argv[2:]
    problems = []
    certs = rows(f"{dump}/certificates", 3)   # serial, status, superseded_by
    revs = rows(f"{dump}/revocations", 5)     # serial, state, release_seq, final_crl, reason
    crls = rows(f"{dump}/crls", 3)            # number, this_update, release_seq
    audit = rows(f"{dump}/audit", 3)          # action, subject, detail

    serials = [c[0] for c in certs]
    if len(serials) != len(set(serials)):
        problems.append(f"a serial issued twice: {len(serials)} certificates, {len(set(serials))} serials")

    # CRL numbers: unique, and their order is the order of the release
    # sequence each CRL was taken at (commit order) and of thisUpdate.
    by_number = sorted((int(n), int(t), int(s)) for n, t, s in crls)
    numbers = [n for n, _, _ in by_number]
    if len(numbers) != len(set(numbers)):
        problems.append(f"a CRL number used twice: {numbers}")
    for (n1, t1, s1), (n2, t2, s2) in zip(by_number, by_number[1:]):
        if s2 < s1 or t2 < t1:
            problems.append(f"CRL #{n2} was taken before CRL #{n1} (release seq {s1} -> {s2}, "
                            f"thisUpdate {t1} -> {t2})")
    crl_seq = {n: s for n, _, s in by_number}

    # Every CRL file: a number the store recorded, holding every revocation
    # released (committed) before that number was taken and not yet past its
    # final CRL; never a held or dropped one.
    released = [(r[0], int(r[2]), None if r[3] == "" else int(r[3])) for r in revs if r[1] == "released"]
    not_listed = {r[0] for r in revs if r[1] in ("held", "dropped")}
    seen_numbers = {}
    for path in crl_paths:
        number, listed = crl_file(path)
        if number in seen_numbers:
            problems.append(f"{path} and {seen_numbers[number]} both carry CRL number {number}")
        seen_numbers[number] = path
        if number not in crl_seq:
            problems.append(f"{path}: CRL #{number} is not recorded in the store")
            continue
        for serial, seq, final in released:
            if seq <= crl_seq[number] and (final is None or final >= number) and serial not in listed:
                problems.append(f"{path}: CRL #{number} lacks {serial}, released before it (seq {seq} <= {crl_seq[number]})")
        wrong = listed & not_listed
        if wrong:
            problems.append(f"{path}: CRL #{number} lists held or dropped {sorted(wrong)}")

    # Holds: every superseded certificate has its revocation; none was
    # released twice (one audit entry names each release).
    rev_serials = {r[0] for r in revs}
    for serial, status, _ in certs:
        if status in ("superseded", "revoked") and serial not in rev_serials:
            problems.append(f"{status} certificate {serial} has no revocation: a hold was lost")
    for serial, _, _ in released:
        mentions = sum(1 for a in audit if a[0] in ("user.confirm", "hold.release", "user.observe")
                       and serial in a[2])
        if mentions > 1:
            problems.append(f"the hold of {serial} was released {mentions} times")

    # The audit log: one entry per change.
    issued = sum(1 for a in audit if a[0] in ("user.create", "user.renew"))
    if issued != len(certs):
        problems.append(f"{len(certs)} certificates but {issued} user.create/user.renew audit entries")
    built = sum(1 for a in audit if a[0] == "crl.build")
    if built != len(crls):
        problems.append(f"{len(crls)} CRLs but {built} crl.build audit entries")
    revoked = sum(1 for c in certs if c[1] == "revoked")
    revoke_entries = sum(1 for a in audit if a[0] == "user.revoke")
    if revoked != revoke_entries:
        problems.append(f"{revoked} certificates revoked for cause but {revoke_entries} user.revoke audit entries")

    for p in problems:
        print("violated:", p)
    print(f"checked {len(certs)} certificates, {len(revs)} revocations, {len(crls)} CRLs in the store, "
          f"{len(crl_paths)} CRL files, {len(audit)} audit entries")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
