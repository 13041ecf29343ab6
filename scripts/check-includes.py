#!/usr/bin/env python3
"""Module boundaries: every `#include "m/..."` in src/ names a module its library declares.

Reads each src/*/CMakeLists.txt for its libraries (add_library) and their dependencies
(target_link_libraries, PUBLIC and PRIVATE alike). A file belongs to the library that compiles
it; a header to the library that compiles the .cpp of the same name, else to the folder's main
library (ck_<folder>). An include of another module's header is allowed only when the library
that owns that header is listed in the including library's target_link_libraries: the build
already refuses headers of modules it does not link (each module's include path exposes only
its own folder), this check also refuses the ones that arrive only through a dependency's
dependencies. Runs before the build in .ci/run; exits 1 and lists each violation.

With --archives BUILD (after the build), the same for calls: every ck:: symbol a module's static
library leaves undefined (nm) must be defined by that library or the libraries it links,
directly or through them, so a call that would link only through the executable's link line
fails here.
Usage: scripts/check-includes.py [--archives BUILD]
"""
import os
import re
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
SRC = os.path.join(ROOT, "src")
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)
COMMAND = re.compile(r"\b(add_library|target_link_libraries|target_sources)\s*\(([^)]*)\)", re.S)
NM_CK_SYMBOL = re.compile(r"^\s*(?:[0-9a-f]+\s+)?[A-Za-z]\s+(ck::.*)$", re.M)
KEYWORDS = {"PUBLIC", "PRIVATE", "INTERFACE", "STATIC", "SHARED", "OBJECT", "MODULE"}


def parse_modules():
    """{library: {"dir", "sources", "deps"}} from every src/*/CMakeLists.txt."""
    libs = {}
    for module in sorted(os.listdir(SRC)):
        cmake = os.path.join(SRC, module, "CMakeLists.txt")
        if not os.path.isfile(cmake):
            continue
        text = re.sub(r"#[^\n]*", "", open(cmake, encoding="utf-8").read())
        for command, args in COMMAND.findall(text):
            name, *rest = args.split()
            lib = libs.setdefault(name, {"dir": module, "sources": set(), "deps": set(),
                                         "object": False})
            if command == "add_library" and "OBJECT" in rest:
                lib["object"] = True
            rest = [a for a in rest if a not in KEYWORDS]
            if command == "target_link_libraries":
                lib["deps"].update(rest)
            else:
                lib["sources"].update(os.path.normpath(os.path.join(module, a)) for a in rest
                                      if a.endswith((".cpp", ".h")) and "$" not in a)
    return libs


def owner_of(rel, libs):
    """The library that owns src/REL (a path like "ca/authority.h"), or None. An OBJECT library
    (ck_fault) is a link-time variant of a header its folder's library declares: it owns only
    the files it compiles."""
    stem = os.path.splitext(rel)[0]
    for name, lib in libs.items():
        if rel in lib["sources"]:
            return name
    for name, lib in libs.items():
        if not lib["object"] and stem + ".cpp" in lib["sources"]:
            return name
    module = rel.split("/", 1)[0]
    in_dir = [n for n, lib in libs.items() if lib["dir"] == module]
    if "ck_" + module in in_dir:
        return "ck_" + module
    return in_dir[0] if in_dir else None


def symbols(archive, which):
    """The demangled ck:: symbols ARCHIVE defines (which="--defined-only") or needs."""
    out = subprocess.run(["nm", "-C", which, archive], check=True, capture_output=True,
                         text=True).stdout
    return set(NM_CK_SYMBOL.findall(out))


def check_archives(libs, build):
    """Problems: ck:: symbols a library needs that nothing it links (transitively) defines."""
    archives = {name: os.path.join(build, "src", lib["dir"], f"lib{name}.a")
                for name, lib in libs.items() if not lib["object"]}
    missing = [a for a in archives.values() if not os.path.isfile(a)]
    if missing:
        return [f"{a}: not built (run the build first)" for a in missing]
    defined = {name: symbols(a, "--defined-only") for name, a in archives.items()}

    def closure(name, seen):
        if name in libs and name not in seen:
            seen.add(name)
            for dep in libs[name]["deps"]:
                closure(dep, seen)
        return seen

    problems = []
    for name, archive in sorted(archives.items()):
        reach = set().union(*(defined.get(n, set()) for n in closure(name, set())))
        for sym in sorted(symbols(archive, "--undefined-only") - reach):
            owners = [n for n, d in defined.items() if sym in d] or ["no library"]
            problems.append(f"{name} calls {sym[:160]}, defined in {', '.join(owners)}, "
                            f"which src/{libs[name]['dir']}/CMakeLists.txt does not link")
    return problems


def main():
    libs = parse_modules()
    if len(sys.argv) == 3 and sys.argv[1] == "--archives":
        problems = check_archives(libs, os.path.abspath(sys.argv[2]))
        for p in problems:
            print(p, file=sys.stderr)
        if problems:
            print(f"check-includes: {len(problems)} call(s) across module boundaries",
                  file=sys.stderr)
            return 1
        print(f"check-includes: {len(libs)} libraries, every call into a linked library")
        return 0
    if len(sys.argv) != 1:
        print("usage: scripts/check-includes.py [--archives BUILD]", file=sys.stderr)
        return 2
    problems = []
    for dirpath, _, files in os.walk(SRC):
        for f in sorted(files):
            if not f.endswith((".cpp", ".h")):
                continue
            path = os.path.join(dirpath, f)
            rel = os.path.relpath(path, SRC)
            lib = owner_of(rel, libs)
            if lib is None:
                continue
            allowed = {lib} | libs[lib]["deps"]
            text = open(path, encoding="utf-8").read()
            for m in INCLUDE.finditer(text):
                inc = m.group(1)
                line = text.count("\n", 0, m.start()) + 1
                if inc.startswith("../") or "/../" in inc:
                    problems.append(f"src/{rel}:{line}: \"{inc}\": name headers from src/, not by ../")
                    continue
                if "/" not in inc or not os.path.isfile(os.path.join(SRC, inc)):
                    continue  # a third-party or generated header
                want = owner_of(inc, libs)
                if want is not None and want not in allowed:
                    problems.append(f"src/{rel}:{line}: includes \"{inc}\" ({want}), "
                                    f"but {lib} does not link {want} (src/{libs[lib]['dir']}/CMakeLists.txt)")
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"check-includes: {len(problems)} include(s) across module boundaries", file=sys.stderr)
        return 1
    print(f"check-includes: {len(libs)} libraries, every include declared")
    return 0


if __name__ == "__main__":
    sys.exit(main())
