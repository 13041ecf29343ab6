#!/usr/bin/python3
"""A strict reader of Prometheus' text exposition format 0.0.4, for the e2e
tests of `certkeeper serve` (/metrics is parsed, never grepped).

  prom_text.py FILE check            every sample parses, belongs to a family
                                     declared once with HELP and TYPE, no
                                     series twice; prints the series count
  prom_text.py FILE get NAME [K=V]...  the value of the one series with
                                     exactly these labels, or "absent"
  prom_text.py FILE series NAME      each series of NAME, one per line:
                                     k=v,k=v value (labels sorted)
  prom_text.py FILE labels           every label value of every series, one
                                     per line (for checks of what a label holds)
"""
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"


class Bad(Exception):
    pass


def unescape(s):
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == "\\":
            i += 1
            if i >= len(s):
                raise Bad("dangling backslash")
            n = s[i]
            out.append({"\\": "\\", '"': '"', "n": "\n"}.get(n))
            if out[-1] is None:
                raise Bad("bad escape \\" + n)
        else:
            out.append(c)
        i += 1
    return "".join(out)


def parse_labels(text, lineno):
    labels, i = {}, 0
    while i < len(text):
        m = re.match(r'(' + LABEL + r')="((?:[^"\\\n]|\\.)*)"', text[i:])
        if not m:
            raise Bad(f"line {lineno}: bad label at '{text[i:]}'")
        key, val = m.group(1), unescape(m.group(2))
        if key in labels:
            raise Bad(f"line {lineno}: label {key} twice")
        labels[key] = val
        i += m.end()
        if i < len(text):
            if text[i] != ",":
                raise Bad(f"line {lineno}: expected ',' at '{text[i:]}'")
            i += 1
    return labels


def parse(path):
    """Returns {name: [(labels dict, value string)]}; raises Bad."""
    families, helped, current = {}, set(), None
    series = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f.read().split("\n"), 1):
            if not line:
                continue
            if line.startswith("# HELP "):
                name = line.split(" ", 3)[2]
                if name in helped:
                    raise Bad(f"line {lineno}: HELP for {name} twice")
                helped.add(name)
                continue
            if line.startswith("# TYPE "):
                parts = line.split(" ")
                if len(parts) != 4 or parts[3] not in ("gauge", "counter", "untyped"):
                    raise Bad(f"line {lineno}: bad TYPE line")
                if parts[2] in families:
                    raise Bad(f"line {lineno}: TYPE for {parts[2]} twice")
                if parts[2] not in helped:
                    raise Bad(f"line {lineno}: {parts[2]} has no HELP")
                current = parts[2]
                families[current] = parts[3]
                series.setdefault(current, [])
                continue
            if line.startswith("#"):
                continue
            m = re.fullmatch(r"(" + NAME + r")(?:\{(.*)\})? (\S+)", line)
            if not m:
                raise Bad(f"line {lineno}: not a sample: {line!r}")
            name, value = m.group(1), m.group(3)
            if name != current:
                raise Bad(f"line {lineno}: {name} outside its family (current {current})")
            float(value)  # NaN, +Inf, -Inf parse too
            labels = parse_labels(m.group(2) or "", lineno)
            key = tuple(sorted(labels.items()))
            if any(k == key for k, _ in series[name]):
                raise Bad(f"line {lineno}: duplicate series {line!r}")
            series[name].append((key, value))
    return series


def main():
    path, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    try:
        series = parse(path)
    except Bad as e:
        print(f"invalid exposition: {e}")
        sys.exit(1)
    if cmd == "check":
        print(sum(len(v) for v in series.values()))
    elif cmd == "get":
        want = tuple(sorted(tuple(a.split("=", 1)) for a in args[1:]))
        found = [v for k, v in series.get(args[0], []) if k == want]
        print(found[0] if found else "absent")
    elif cmd == "series":
        for k, v in series.get(args[0], []):
            print(",".join(f"{a}={b}" for a, b in k), v)
    elif cmd == "labels":
        for items in series.values():
            for k, _ in items:
                for a, b in k:
                    print(f"{a}={b}")
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
