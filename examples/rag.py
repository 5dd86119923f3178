#!/usr/bin/env python3
"""rag.py - retrieval for a RAG pipeline with nothing but open() on a mount.

    python3 examples/rag.py MOUNTPOINT

Creates a collection `docs` (a fresh name if taken) whose entities are
text chunks with scalar fields, embeds each chunk with a deterministic toy
embedding (hashed bag of words, 32 dims, normalized, COSINE), inserts them
as JSON lines through entities.jsonl, loads, and then does what a RAG
retriever does: a filtered scalar query, a count, a vector search whose
hits are fetched with query/id in [...] for their text, an upsert of one
chunk and a delete by filter.  Every answer is checked against what the
script computes from its own data; any difference exits with status 1.
No SDK, no imports beyond the standard library.
"""
import json
import math
import os
import random
import sys

DIM = 32

# ---- the data: 50 short chunks of 10 documents, built deterministically ----

TOPICS = [
    ("Installing milvusfs", "setup", ["install", "faq"]),
    ("Loading partitions", "manual", ["load", "memory"]),
    ("Choosing an index", "manual", ["index", "hnsw", "faq"]),
    ("Scalar filters", "manual", ["query", "filter"]),
    ("Backups and recovery", "ops", ["backup", "faq"]),
    ("Partition keys", "manual", ["tenant", "partition"]),
    ("Troubleshooting errors", "faq", ["errors", "faq"]),
    ("Release notes", "news", ["release"]),
    ("Benchmarks", "blog", ["bench", "hnsw"]),
    ("Embedding models", "blog", ["embedding"]),
]
WORDS = {
    "setup": "install build configure debian package mount fuse daemon",
    "load": "load release memory partition state progress resident",
    "index": "index hnsw ivf flat recall latency build graph",
    "query": "query filter expression field scalar like array json",
    "backup": "backup copy snapshot restore database lmdb hot",
    "tenant": "tenant partition key hash route isolation",
    "errors": "error errno einval enodata busy message log",
    "release": "release version change fix feature upgrade",
    "bench": "benchmark throughput latency recall qps faiss hnswlib",
    "embedding": "embedding model vector dimension cosine normalize token",
}


def make_chunks():
    rng = random.Random(20261202)
    chunks = []
    for d, (title, source, tags) in enumerate(TOPICS):
        vocab = WORDS[list(WORDS)[d]].split()
        for c in range(5):
            words = [rng.choice(vocab) for _ in range(12)]
            chunks.append({
                "id": 1000 + d * 10 + c,
                "doc_id": "doc%02d" % d,
                "title": title,
                "chunk": c,
                "text": "%s, part %d: %s." % (title, c, " ".join(words)),
                "source": source,
                "year": 2017 + (d + c) % 9,
                "tags": tags,
            })
    return chunks


def embed(text):
    """Hashed bag of words (a stable FNV-1a hash), L2-normalized."""
    v = [0.0] * DIM
    for w in text.lower().replace(",", " ").replace(".", " ").replace(":", " ").split():
        h = 2166136261
        for b in w.encode():
            h = ((h ^ b) * 16777619) & 0xFFFFFFFF
        v[h % DIM] += 1.0 if (h >> 16) & 1 else -1.0
    n = math.sqrt(sum(x * x for x in v)) or 1.0
    return [round(x / n, 6) for x in v]


def cosine(a, b):
    return sum(x * y for x, y in zip(a, b)) / (
        math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


# ---- the file interface ----

def read(path):
    with open(path) as f:
        return f.read()


def write(path, text):
    # one write(2): control files act per write, inserts are one transaction
    with open(path, "w") as f:
        f.write(text)


def query(coll, text):
    """A private query session: write the query, read the answer (JSON lines)."""
    with open(os.path.join(coll, "query", "q"), "w+") as f:
        f.write(text)
        f.flush()
        return [json.loads(line) for line in f.read().splitlines()]


def search(coll, vec, k):
    with open(os.path.join(coll, "search", "s"), "w+") as f:
        f.write("k=%d\n%s\n" % (k, ",".join(repr(x) for x in vec)))
        f.flush()
        hits = [line.split("\t") for line in f.read().splitlines()]
    return [(int(i), float(d)) for i, d in hits]


failures = []


def check(what, got, want):
    if got != want:
        failures.append(what)
        print("  MISMATCH %s:\n    got  %r\n    want %r" % (what, got, want))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: rag.py MOUNTPOINT")
    mnt = sys.argv[1]
    name, n = "docs", 1
    while os.path.exists(os.path.join(mnt, name)):
        n += 1
        name = "docs%d" % n
    coll = os.path.join(mnt, name)
    os.mkdir(coll)
    write(os.path.join(coll, "schema"),
          "dim=%d metric_type=COSINE "
          "field=doc_id:VARCHAR(16) field=title:VARCHAR(128) field=chunk:INT64 "
          "field=text:VARCHAR(2000) field=source:VARCHAR(16) field=year:INT64 "
          "field=tags:ARRAY(VARCHAR(32),8)\n" % DIM)

    chunks = make_chunks()
    vecs = {c["id"]: embed(c["text"]) for c in chunks}
    lines = "".join(json.dumps(dict(c, vector=vecs[c["id"]])) + "\n" for c in chunks)
    write(os.path.join(coll, "entities.jsonl"), lines)
    count = int(read(os.path.join(coll, "count")))
    print("collection %s: %d chunks" % (name, count))
    check("count after insert", count, len(chunks))
    write(os.path.join(coll, "load"), "1\n")
    print("state:", read(os.path.join(coll, "state")).strip())

    # 1. A filtered query: recent FAQ chunks.
    got = query(coll, 'filter=year >= 2020 and array_contains(tags, "faq")\n'
                      "output_fields=doc_id,chunk,year\n")
    want = sorted(c["id"] for c in chunks if c["year"] >= 2020 and "faq" in c["tags"])
    print("recent FAQ chunks: %d" % len(got))
    for r in got[:3]:
        print("  %d  %s#%d  %d" % (r["id"], r["doc_id"], r["chunk"], r["year"]))
    check("filtered query ids", [r["id"] for r in got], want)
    check("filtered query fields", [sorted(r) for r in got[:1]],
          [["chunk", "doc_id", "id", "year"]] if want else [])

    # 2. count(*) with a filter, inline in the name.
    n_manual = int(read(os.path.join(
        coll, "query", 'source == "manual"&output_fields=count(*)')))
    print("chunks from the manual:", n_manual)
    check("count(*)", n_manual, sum(c["source"] == "manual" for c in chunks))

    # 3. Retrieval: search, then fetch the hits' text by id.
    question = "which index gives the best recall and latency"
    qv = embed(question)
    hits = search(coll, qv, 4)
    ids = [i for i, _ in hits]
    texts = {r["id"]: r for r in query(
        coll, "filter=id in [%s]\noutput_fields=title,text\n" % ", ".join(map(str, ids)))}
    print("question: %s" % question)
    for i, d in hits:
        print("  %.4f  %-22s %s" % (d, texts[i]["title"], texts[i]["text"][:60]))
    # exact search (FLAT): the hits are the top 4 by cosine, computed here
    ref = sorted(chunks, key=lambda c: (-cosine(qv, vecs[c["id"]]), c["id"]))
    check("search hits", sorted(ids), sorted(c["id"] for c in ref[:4]))
    check("search distances",
          all(abs(d - cosine(qv, vecs[i])) < 1e-4 for i, d in hits), True)
    check("hits fetched", sorted(texts), sorted(ids))

    # 4. Upsert one chunk: new text, same id.
    first = chunks[0]
    new = dict(first, text=first["text"] + " Updated for 2026.", year=2026)
    write(os.path.join(coll, "upsert"), json.dumps(dict(new, vector=embed(new["text"]))) + "\n")
    got = query(coll, "filter=id == %d\noutput_fields=text,year\n" % first["id"])
    print("upserted %d: year %d" % (first["id"], got[0]["year"]))
    check("upsert", got, [{"id": first["id"], "text": new["text"], "year": 2026}])
    check("count after upsert", int(read(os.path.join(coll, "count"))), len(chunks))
    chunks[0] = new

    # 5. Delete by filter: drop the release notes.
    write(os.path.join(coll, "delete"), 'filter=doc_id == "doc07"\n')
    left = int(read(os.path.join(coll, "count")))
    print("after deleting doc07: %d chunks" % left)
    check("count after delete", left, sum(c["doc_id"] != "doc07" for c in chunks))
    check("deleted are gone", query(coll, 'filter=doc_id == "doc07"\n'), [])

    write(os.path.join(coll, "release"), "1\n")
    if failures:
        print("FAILED: %s" % ", ".join(failures))
        sys.exit(1)
    print("all as expected")


if __name__ == "__main__":
    main()
