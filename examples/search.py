#!/usr/bin/env python3
"""search.py - milvusfs from plain Python: files, open(), read(), write().

    python3 examples/search.py MOUNTPOINT

Creates a collection `fruit` in a mounted milvusfs (dropping an older one
of that name first), inserts eight fruits described by four tastes with
their own ids, loads it, and searches it three ways: through one
read-write descriptor, inline in a file name, and as JSON.  No client
library: every step is a file operation that any language can do.
"""
import json
import os
import sys

TASTES = ("sweet", "sour", "crunchy", "juicy")
FRUIT = {
    1: ("apple", [0.8, 0.3, 0.9, 0.6]),
    2: ("pear", [0.8, 0.2, 0.5, 0.8]),
    3: ("lemon", [0.1, 1.0, 0.2, 0.7]),
    4: ("lime", [0.1, 0.9, 0.2, 0.6]),
    5: ("banana", [0.9, 0.1, 0.1, 0.2]),
    6: ("mango", [0.9, 0.2, 0.2, 0.8]),
    7: ("carrot", [0.5, 0.1, 1.0, 0.4]),
    8: ("grape", [0.9, 0.3, 0.3, 0.9]),
}


def put(path, text):
    """Writes text to a control file (one write, then close)."""
    with open(path, "w") as f:
        f.write(text)


def get(path):
    with open(path) as f:
        return f.read()


def hits(tsv):
    """Parses `id<TAB>distance` lines into (id, distance) pairs."""
    return [(int(i), float(d)) for i, d in
            (line.split("\t") for line in tsv.splitlines() if line)]


def show(title, pairs):
    print(title)
    for i, d in pairs:
        print("  %-7s %d  cosine %.4f" % (FRUIT[i][0], i, d))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: search.py MOUNTPOINT")
    c = os.path.join(sys.argv[1], "fruit")

    # Start afresh: a collection must be released before it is dropped.
    if os.path.isdir(c):
        put(os.path.join(c, "release"), "1\n")
        os.rmdir(c)
    os.mkdir(c)
    put(os.path.join(c, "schema"),
        "dim=4 metric_type=COSINE description=fruit by taste (%s)\n" % ", ".join(TASTES))

    # One line per entity: id<TAB>v1,v2,... (the form that reading prints).
    put(os.path.join(c, "vectors"), "".join(
        "%d\t%s\n" % (i, ",".join(str(x) for x in v)) for i, (_, v) in FRUIT.items()))
    print("count:", get(os.path.join(c, "count")).strip())

    put(os.path.join(c, "load"), "1\n")
    print("state:", get(os.path.join(c, "state")).strip())

    # 1. One descriptor: write the query, read its answer.
    fd = os.open(os.path.join(c, "search", "taste"), os.O_RDWR | os.O_CREAT, 0o644)
    with open(fd, "r+") as f:
        f.write("k=3\n0.2 0.9 0.1 0.8\n")  # sour and juicy
        f.flush()
        show("sour and juicy:", hits(f.read()))

    # 2. Inline in the name: the neighbours of entity 1 (the apple).
    show("like an apple:", hits(get(os.path.join(c, "search", "id=1&k=3"))))

    # 3. JSON, and an entity read back.
    answer = json.loads(get(os.path.join(c, "search", "id=5&k=2&format=json")))
    show("like a banana (JSON):", [(h["id"], h["distance"]) for h in answer[0]])
    entity = json.loads(get(os.path.join(c, "entities", "7")))
    print("entity 7: %s [%s]" % (FRUIT[entity["id"]][0],
                                 ", ".join("%g" % x for x in entity["vector"])))

    put(os.path.join(c, "release"), "1\n")
    print("state:", get(os.path.join(c, "state")).strip())


if __name__ == "__main__":
    main()
