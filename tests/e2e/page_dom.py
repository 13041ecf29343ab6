#!/usr/bin/env python3
"""Reads an HTML document (chromium --dump-dom) with html.parser into a small
tree and prints the JSON of one expression over it, for the e2e tests' checks.

Usage: page_dom.py FILE EXPR. EXPR may use:
  tags(name)     -> number of elements with that tag
  text(id)       -> the text content of the element with that id (whitespace collapsed)
  rows(table_id) -> [[class, [cell texts...]], ...] for the table's tbody rows
  class_rows(cls) -> the same for every table with that class, in document order
  items(id)      -> the texts of the <li> elements under the element with that id
  attr(id, name) -> an attribute of the element with that id
  hrefs()        -> every <a href> in document order
  cls(id)        -> the class attribute of the element with that id
"""
import json
import sys
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.children = tag, dict(attrs), parent, []

    def text(self):
        out = []
        for c in self.children:
            out.append(c if isinstance(c, str) else c.text())
        return "".join(out)

    def walk(self):
        yield self
        for c in self.children:
            if isinstance(c, Node):
                yield from c.walk()


class Tree(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", [], None)
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.cur)
        self.cur.children.append(node)
        if tag not in VOID:
            self.cur = node

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not self.root and n.tag != tag:
            n = n.parent
        if n is not self.root:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.children.append(data)


def main():
    tree = Tree()
    with open(sys.argv[1], encoding="utf-8") as f:
        tree.feed(f.read())
    nodes = list(tree.root.walk())

    def by_id(i):
        found = [n for n in nodes if n.attrs.get("id") == i]
        if not found:
            raise SystemExit("page_dom: no element with id %r" % i)
        return found[0]

    def squash(s):
        return " ".join(s.split())

    def table_rows(table):
        return [[r.attrs.get("class", ""),
                 [squash(c.text()) for c in r.children if isinstance(c, Node) and c.tag == "td"]]
                for b in table.walk() if b.tag == "tbody"
                for r in b.children if isinstance(r, Node) and r.tag == "tr"]

    env = {
        "tags": lambda name: sum(1 for n in nodes if n.tag == name),
        "text": lambda i: squash(by_id(i).text()),
        "rows": lambda i: table_rows(by_id(i)),
        "class_rows": lambda c: [r for t in nodes if t.tag == "table"
                                 and c in t.attrs.get("class", "").split() for r in table_rows(t)],
        "items": lambda i: [squash(n.text()) for n in by_id(i).walk() if n.tag == "li"],
        "attr": lambda i, a: by_id(i).attrs.get(a),
        "cls": lambda i: by_id(i).attrs.get("class"),
        "hrefs": lambda: [n.attrs.get("href") for n in nodes if n.tag == "a"],
    }
    print(json.dumps(eval(sys.argv[2], {"__builtins__": {"len": len, "sorted": sorted}}, env)))


main()
