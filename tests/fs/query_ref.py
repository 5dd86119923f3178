# query_ref.py - the mount tests' independent reference for query/ (SPEC §9):
# deterministic synthetic entities with scalar fields, random boolean
# expressions generated as syntax trees (rendered to Milvus text in several
# spellings), and a brute-force three-valued evaluator over the rows the
# test itself wrote.  It never reads milvusfs's output to decide what is
# right: the scripts compare what `query/` answers with what this computes.
#
# Used by query.sh, delete_filter.sh, partition_key.sh and scalar_index.sh
# as `import query_ref as R` (sys.path gets tests/fs).
#
# Semantics modelled (SPEC §9 and the Milvus 2.5 behaviour the SPEC cites):
# Kleene logic, T=2 U=1 F=0; `and` min, `or` max, `not` 2-t; only T
# matches.  A null field, a JSON path that is missing or of another type,
# x % 0 are unknown; `is null` is T/F (a missing JSON key is null).
# Integers and floats compare numerically; `%` truncates toward zero (C).
import json
import os
import random

T, U, F = 2, 1, 0
# Lists of numbers and strings after `in` on a JSON path (query.sh keeps
# them; the other scripts set False to test their own feature).
MIXED_IN = True

SCHEMA = ("dim=2 field=word:VARCHAR(32) field=rank:INT64 field=len:INT32 "
          "field=score:DOUBLE field=ok:BOOL field=tags:ARRAY(VARCHAR(16),8) "
          "field=nums:ARRAY(INT64,6) field=meta:JSON "
          "field=note:VARCHAR(20):nullable field=cnt:INT16:nullable "
          "enable_dynamic_field=true")
FIELDS = ["word", "rank", "len", "score", "ok", "tags", "nums", "meta",
          "note", "cnt"]
SYL = ["ka", "lo", "mi", "nu", "pe", "ra", "so", "ti", "va", "xe"]
TAGS = ["music", "art", "sport", "food", "tech", "news", "a_b", "x%y"]


def word(rng):
    return "".join(rng.choice(SYL) for _ in range(rng.randint(1, 4)))


def gen_row(rng, i, extra_fields=()):
    r = {"id": i, "vector": [rng.randint(-8, 8) / 4, rng.randint(-8, 8) / 4]}
    r["word"] = word(rng)
    r["rank"] = rng.randint(-60, 60)
    r["len"] = rng.randint(0, 20)
    r["score"] = rng.randint(-40, 40) / 4
    r["ok"] = rng.random() < 0.5
    r["tags"] = rng.sample(TAGS, rng.randint(0, 4))
    r["nums"] = [rng.randint(-5, 5) for _ in range(rng.randint(0, 6))]
    m = rng.random()
    if m < 0.08:
        r["meta"] = [rng.randint(0, 3) for _ in range(rng.randint(0, 3))]
    elif m < 0.12:
        r["meta"] = rng.choice([7, "str", 2.5, True])
    else:
        o = {}
        if rng.random() < 0.7:
            o["x"] = rng.choice([rng.randint(-10, 10), rng.randint(-40, 40) / 4,
                                 "s%d" % rng.randint(0, 9), None, False])
        if rng.random() < 0.6:
            o["s"] = word(rng)
        if rng.random() < 0.6:
            o["arr"] = [rng.choice([rng.randint(0, 6), rng.randint(0, 6),
                                    "t%d" % rng.randint(0, 3), 1.5])
                        for _ in range(rng.randint(0, 4))]
        if rng.random() < 0.5:
            o["sub"] = {"k": rng.randint(0, 5)} if rng.random() < 0.8 else {}
        r["meta"] = o
    r["note"] = None if rng.random() < 0.25 else "n" + word(rng)[:8]
    r["cnt"] = None if rng.random() < 0.2 else rng.randint(-100, 100)
    if rng.random() < 0.6:
        r["dyn"] = rng.choice([rng.randint(0, 9), rng.randint(0, 9),
                               "d%d" % rng.randint(0, 3)])
    for f in extra_fields:
        r[f[0]] = f[1](rng)
    return r


def gen_rows(seed, n, id0=1, step=1, extra_fields=()):
    rng = random.Random(seed)
    return [gen_row(rng, id0 + k * step, extra_fields) for k in range(n)]


def dump(rows, path, keep_private=False):
    with open(path, "w") as f:
        for r in rows:
            o = {k: v for k, v in r.items()
                 if keep_private or not k.startswith("_")}
            f.write(json.dumps(o, separators=(",", ":")) + "\n")


def load(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


# ---- expressions: trees ----------------------------------------------------
# ("cmp", lhs, op, rhs) lhs/rhs: ("f", name) ("j", name, [keys]) ("lit", v)
#   ("ar", op, a, b) ("neg", a) ("alen", path)
# ("chain", lit, op1, term, op2, lit)  ("in", term, [lits], negated)
# ("like", term, pattern)  ("fn", name, path, arg)  ("exists", path)
# ("isnull", path, negated)  ("bool", term)  ("const", bool)
# ("and", a, b) ("or", a, b) ("not", a)

NUMF = ["rank", "len", "score", "cnt", "id"]
INTF = ["rank", "len", "cnt", "id"]
STRF = ["word", "note"]


class Gen:
    def __init__(self, seed, pk=None, nrows=1000, idmax=1000):
        self.r = random.Random(seed)
        self.idmax = idmax

    def lit_for(self, f):
        r = self.r
        if f == "id":
            return r.randint(-5, self.idmax + 5)
        if f in ("rank", "cnt"):
            return r.choice([r.randint(-70, 70), r.randint(-70, 70) + 0.5])
        if f == "len":
            return r.randint(-1, 21)
        if f == "score":
            return r.choice([r.randint(-45, 45) / 4, r.randint(-11, 11)])
        if f in ("word", "note"):
            w = word(r)
            return ("n" + w[:8]) if f == "note" and r.random() < 0.5 else w
        raise ValueError(f)

    def jpath(self):
        r = self.r
        c = r.randint(0, 9)
        if c < 3:
            return ("j", "meta", ["x"])
        if c < 5:
            return ("j", "meta", ["s"])
        if c < 6:
            return ("j", "meta", ["sub", "k"])
        if c < 7:
            return ("j", "meta", ["arr", r.randint(0, 2)])
        if c < 8:
            return ("j", "meta", [r.choice(["x", "s", "nokey"])])
        return ("j", "$meta", ["dyn"]) if r.random() < 0.5 else ("d", "dyn")

    def leaf(self):
        r = self.r
        c = r.randint(0, 23)
        ops = ["==", "!=", "<", "<=", ">", ">="]
        if c >= 22:     # long in-lists (unsorted, duplicates): index merges
            f = r.choice(["rank", "len", "cnt", "id", "word", "note", "score"])
            vals = [self.lit_for(f) for _ in range(r.randint(20, 300))]
            if f in ("rank", "cnt") and r.random() < 0.7:
                vals = [int(v) for v in vals]
            return ("in", ("f", f), vals, r.random() < 0.3)
        if c <= 3:
            f = r.choice(NUMF)
            return ("cmp", ("f", f), r.choice(ops), ("lit", self.lit_for(f)))
        if c == 4:
            f = r.choice(STRF)
            return ("cmp", ("f", f), r.choice(ops), ("lit", self.lit_for(f)))
        if c == 5:
            f = r.choice(NUMF)
            a, b = sorted([self.lit_for(f), self.lit_for(f)])
            return ("chain", ("lit", a), r.choice(["<", "<="]), ("f", f),
                    r.choice(["<", "<="]), ("lit", b))
        if c == 6:
            f = r.choice(NUMF + STRF)
            return ("in", ("f", f), [self.lit_for(f) for _ in
                                     range(r.randint(0, 5))], r.random() < 0.4)
        if c == 7:
            f = r.choice(STRF)
            w = word(r)[:r.randint(1, 4)]
            if r.random() < 0.3:
                w = w[:1] + "_" + w[2:]
            pat = r.choice([w + "%", "%" + w + "%", "%" + w, w])
            return ("like", ("f", f), pat)
        if c == 8:
            f = r.choice(INTF)
            k = r.randint(2, 7)
            return ("cmp", ("ar", "%", ("f", f), ("lit", k)), r.choice(["==", "!="]),
                    ("lit", r.randint(-k + 1, k - 1)))
        if c == 9:
            f = r.choice(["rank", "len", "score"])
            op = r.choice(["+", "-", "*"])
            other = r.choice([("lit", r.randint(-3, 3)), ("f", r.choice(["rank", "len"]))])
            return ("cmp", ("ar", op, ("f", f), other), r.choice(ops),
                    ("lit", r.randint(-60, 60)))
        if c == 10:
            p = r.choice([("f", "tags"), ("f", "nums")])
            if p[1] == "tags":
                vals = lambda: r.choice(TAGS + ["none"])
            else:
                vals = lambda: r.randint(-6, 6)
            fn = r.choice(["array_contains", "array_contains_all",
                           "array_contains_any"])
            arg = vals() if fn == "array_contains" else [vals() for _ in range(r.randint(1, 3))]
            return ("fn", fn, p, arg)
        if c == 11:
            p = r.choice([("f", "tags"), ("f", "nums"), ("j", "meta", ["arr"])])
            return ("cmp", ("alen", p), r.choice(ops), ("lit", r.randint(0, 5)))
        if c == 12:
            fn = r.choice(["json_contains", "json_contains_all", "json_contains_any"])
            vals = lambda: r.choice([r.randint(0, 6), "t%d" % r.randint(0, 3), 1.5])
            arg = vals() if fn == "json_contains" else [vals() for _ in range(r.randint(1, 3))]
            return ("fn", fn, ("j", "meta", ["arr"]), arg)
        if c == 13:
            return ("exists", r.choice([("j", "meta", [k]) for k in ("x", "s", "arr", "sub", "zz")]
                                       + [("j", "meta", ["sub", "k"]), ("j", "$meta", ["dyn"])]))
        if c == 14:
            p = r.choice([("f", "note"), ("f", "cnt"), ("j", "meta", ["x"]), ("d", "dyn"),
                          ("f", "word")])
            return ("isnull", p, r.random() < 0.5)
        if c == 15:
            return ("bool", ("f", "ok")) if r.random() < 0.7 else \
                ("cmp", ("f", "ok"), r.choice(["==", "!="]), ("lit", r.random() < 0.5))
        if c in (16, 17):
            p = self.jpath()
            if p[-1] == ["s"]:
                v = word(r)
            elif r.random() < 0.2:
                v = "s%d" % r.randint(0, 9) if p[-1] == ["x"] else "d%d" % r.randint(0, 3)
            else:
                v = r.choice([r.randint(-10, 10), r.randint(-40, 40) / 4])
            if r.random() < 0.25:
                w = r.randint(0, 9)
                if not MIXED_IN and isinstance(v, str):
                    w = "s%d" % w
                return ("in", p, [v, w], r.random() < 0.4)
            return ("cmp", p, r.choice(ops), ("lit", v))
        if c == 18:
            return ("like", ("j", "meta", ["s"]), word(r)[:2] + "%")
        if c == 19:
            return ("cmp", ("f", "tags"), "==", ("lit", None)) if False else \
                ("cmp", ("idx", "tags", r.randint(0, 3)), "==", ("lit", r.choice(TAGS)))
        if c == 20:
            return ("cmp", ("neg", ("f", r.choice(["rank", "len"]))), r.choice(ops),
                    ("lit", r.randint(-30, 30)))
        return ("cmp", ("lit", self.lit_for("rank")), r.choice(ops), ("f", "rank"))

    def expr(self, depth=0):
        r = self.r
        if depth >= 3 or r.random() < 0.45:
            return self.leaf()
        c = r.random()
        if c < 0.4:
            return ("and", self.expr(depth + 1), self.expr(depth + 1))
        if c < 0.8:
            return ("or", self.expr(depth + 1), self.expr(depth + 1))
        return ("not", self.expr(depth + 1))


# ---- rendering ----------------------------------------------------------------

def rlit(v, r):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return r.choice(["true", "false"]) if False else ("true" if v else "false")
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, str):
        q = r.choice(['"', "'"])
        return q + v.replace("\\", "\\\\").replace(q, "\\" + q) + q
    if isinstance(v, list):
        return "[" + ", ".join(rlit(x, r) for x in v) + "]"
    raise ValueError(v)


def rpath(p, r):
    if p[0] == "f":
        return p[1]
    if p[0] == "d":
        return p[1]
    if p[0] == "idx":
        return "%s[%d]" % (p[1], p[2])
    s = p[1]
    for k in p[2]:
        s += "[%d]" % k if isinstance(k, int) else '["%s"]' % k
    return s


def rterm(t, r):
    if t[0] == "lit":
        return rlit(t[1], r)
    if t[0] == "ar":
        return "(%s %s %s)" % (rterm(t[2], r), t[1], rterm(t[3], r)) if r.random() < 0.5 \
            else "%s %s %s" % (rterm(t[2], r), t[1], rterm(t[3], r))
    if t[0] == "neg":
        return "-" + rterm(t[1], r)
    if t[0] == "alen":
        return "array_length(%s)" % rpath(t[1], r)
    return rpath(t, r)


def kw(word_, r, sym=None):
    if sym and r.random() < 0.3:
        return sym
    return r.choice([word_, word_.upper(), word_.capitalize()]) if r.random() < 0.3 else word_


def render(e, r):
    k = e[0]
    if k == "cmp":
        return "%s %s %s" % (rterm(e[1], r), e[2], rterm(e[3], r))
    if k == "chain":
        return "%s %s %s %s %s" % (rterm(e[1], r), e[2], rterm(e[3], r), e[4], rterm(e[5], r))
    if k == "in":
        return "%s %s %s" % (rterm(e[1], r), (kw("not", r) + " " + kw("in", r)) if e[3]
                             else kw("in", r), rlit(e[2], r))
    if k == "like":
        return "%s %s %s" % (rterm(e[1], r), kw("like", r), rlit(e[2], r))
    if k == "fn":
        return "%s(%s, %s)" % (e[1], rpath(e[2], r), rlit(e[3], r))
    if k == "exists":
        return "%s %s" % (kw("exists", r), rpath(e[1], r))
    if k == "isnull":
        return "%s %s %s" % (rpath(e[1], r), kw("is", r),
                             (kw("not", r) + " " + kw("null", r)) if e[2] else kw("null", r))
    if k == "bool":
        return rpath(e[1], r)
    if k == "const":
        return "true" if e[1] else "false"
    if k in ("and", "or"):
        op = kw(k, r, "&&" if k == "and" else "||")
        return "(%s) %s (%s)" % (render(e[1], r), op, render(e[2], r))
    if k == "not":
        return "%s (%s)" % (kw("not", r, "!"), render(e[1], r))
    raise ValueError(e)


# ---- evaluation -------------------------------------------------------------------

MISSING = object()


def isnum(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def getpath(p, row):
    """Value of a path, MISSING when missing (a null field: None)."""
    if p[0] == "f":
        return row[p[1]]
    if p[0] == "idx":
        a = row[p[1]]
        if a is None or p[2] >= len(a):
            return MISSING
        return a[p[2]]
    if p[0] == "d":
        return row.get(p[1], MISSING)
    if p[1] == "$meta":
        v = {k: x for k, x in row.items() if k not in FIELDS and k != "vector"
             and not k.startswith("_") and k != "id"}
    else:
        v = row[p[1]]
    for k in p[2]:
        if isinstance(k, int):
            if not isinstance(v, list) or k >= len(v):
                return MISSING
            v = v[k]
        else:
            if not isinstance(v, dict) or k not in v:
                return MISSING
            v = v[k]
    return v


def cdiv(a, b):
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def term(t, row):
    """A term's value; None for unknown."""
    k = t[0]
    if k == "lit":
        return t[1]
    if k == "ar":
        a, b = term(t[2], row), term(t[3], row)
        if not isnum(a) or not isnum(b):
            return None
        if t[1] == "+":
            return a + b
        if t[1] == "-":
            return a - b
        if t[1] == "*":
            return a * b
        if t[1] == "%":
            if b == 0:
                return None
            return a - cdiv(a, b) * b
    if k == "neg":
        a = term(t[1], row)
        return -a if isnum(a) else None
    if k == "alen":
        a = getpath(t[1], row)
        return len(a) if isinstance(a, list) else None
    v = getpath(t, row)
    return None if v is MISSING else v


def same_kind(a, b):
    if isnum(a) and isnum(b):
        return True
    if isinstance(a, bool) and isinstance(b, bool):
        return True
    if isinstance(a, str) and isinstance(b, str):
        return True
    return False


def vcmp(a, op, b):
    if a is None or b is None or not same_kind(a, b):
        return U
    if isinstance(a, bool) and op not in ("==", "!="):
        return U
    if isinstance(a, str):
        a, b = a.encode(), b.encode()
    res = {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b,
           ">": a > b, ">=": a >= b}[op]
    return T if res else F


def eq(a, b):
    return same_kind(a, b) and a == b


def like(s, pat):
    import re
    rx = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pat)
    return re.fullmatch(rx, s, re.S) is not None


_INL = {}


def _inlist(lst):
    """The numbers and the strings of an in-list, as sets (cached)."""
    c = _INL.get(id(lst))
    if c is None or c[0] is not lst:
        nums = frozenset(x for x in lst if isnum(x))
        strs = frozenset(x for x in lst if isinstance(x, str))
        c = _INL[id(lst)] = (lst, nums, strs)
    return c[1], c[2]


def ev(e, row):
    k = e[0]
    if k == "cmp":
        return vcmp(term(e[1], row), e[2], term(e[3], row))
    if k == "chain":
        return min(vcmp(term(e[1], row), e[2], term(e[3], row)),
                   vcmp(term(e[3], row), e[4], term(e[5], row)))
    if k == "in":
        v = term(e[1], row)
        if v is None or isinstance(v, bool) or not isinstance(v, (int, float, str)):
            return U
        nums, strs = _inlist(e[2])
        kind = strs if isinstance(v, str) else nums
        if not kind and e[2] and e[1][0] in ("j", "d"):
            # a JSON value of another type than every element: unknown
            return U
        hit = v in kind
        return T if hit != e[3] else F
    if k == "like":
        v = term(e[1], row)
        if not isinstance(v, str):
            return U
        return T if like(v, e[2]) else F
    if k == "fn":
        a = getpath(e[2], row)
        if not isinstance(a, list):
            return U
        name, arg = e[1], e[3]
        if name.endswith("contains"):
            return T if any(eq(x, arg) for x in a) else F
        if name.endswith("_all"):
            return T if all(any(eq(x, y) for x in a) for y in arg) else F
        return T if any(any(eq(x, y) for x in a) for y in arg) else F
    if k == "exists":
        return F if getpath(e[1], row) is MISSING else T
    if k == "isnull":
        v = getpath(e[1], row)
        n = v is MISSING or v is None
        return T if n != e[2] else F
    if k == "bool":
        v = term(e[1], row)
        return U if v is None else (T if v else F)
    if k == "const":
        return T if e[1] else F
    if k == "and":
        return min(ev(e[1], row), ev(e[2], row))
    if k == "or":
        return max(ev(e[1], row), ev(e[2], row))
    if k == "not":
        return 2 - ev(e[1], row)
    raise ValueError(e)


def matches(e, rows):
    return sorted((r for r in rows if ev(e, r) == T), key=lambda r: r["id"])


# ---- expected output -------------------------------------------------------------

def project(row, fields):
    """The object query/ prints for row with output_fields (None: default)."""
    o = {"id": row["id"]}
    dyn = {k: v for k, v in row.items() if k not in FIELDS and k not in
           ("id", "vector") and not k.startswith("_")}
    if fields is None or fields == "*v":
        for f in FIELDS:
            o[f] = row[f]
        o.update(dyn)
        if fields == "*v":
            o["vector"] = row["vector"]
        return o
    for f in fields:
        if f == "vector":
            o[f] = row["vector"]
        elif f in FIELDS:
            o[f] = row[f]
        elif f != "id":
            o[f] = dyn.get(f)
    return o


def fetch(path, text=None):
    """Read a query: the inline or saved name, or (text given) a
    read-write descriptor on path that writes text first."""
    fd = os.open(path, os.O_RDONLY if text is None else os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if text is not None:
            b = text.encode()
            assert os.write(fd, b) == len(b)
        out = []
        while True:
            c = os.read(fd, 65536)
            if not c:
                return b"".join(out).decode()
            out.append(c)
    finally:
        os.close(fd)


def parse_jsonl(s):
    return [json.loads(l) for l in s.split("\n") if l != ""] if s else []


def strict_eq(a, b):
    """JSON values equal: numbers numerically, bools only as bools."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isnum(a) and isnum(b):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(strict_eq(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(strict_eq(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def check_objects(got_text, want_rows, fields, what):
    """jsonl text against the expected rows; returns a message or None."""
    if not got_text.endswith("\n") and got_text:
        return "%s: output does not end in a newline" % what
    try:
        got = parse_jsonl(got_text)
    except ValueError as x:
        return "%s: not JSON lines (%s): %r" % (what, x, got_text[:200])
    gi = [o.get("id") for o in got]
    wi = [r["id"] for r in want_rows]
    if gi != wi:
        extra = sorted(set(gi) - set(wi))[:10]
        missing = sorted(set(wi) - set(gi))[:10]
        return ("%s: ids differ: got %d, expected %d; unexpected %s, missing %s%s"
                % (what, len(gi), len(wi), extra, missing,
                   "" if extra or missing else " (order/duplicates)"))
    for o, r in zip(got, want_rows):
        w = project(r, fields)
        if not strict_eq(o, w) or list(o) != list(w):
            return "%s: id %s: got %s, expected %s" % (
                what, r["id"], json.dumps(o), json.dumps(w))
        if list(o)[0] != "id":
            return "%s: id %s: id is not the first key: %s" % (what, r["id"], json.dumps(o))
    return None


def differential(qdir, rows, seed, count, parts=None, idmax=None, log=None,
                 allow_desc=True):
    """Run count random expressions against qdir (a query/ directory),
    with random output_fields/limit/offset/format; rows: the live entities
    of what qdir answers for.  Returns a list of failure messages."""
    g = Gen(seed, idmax=idmax or max(r["id"] for r in rows))
    r = random.Random(seed + 1)
    bad = []
    nonempty = 0
    for i in range(count):
        e = g.expr()
        text = render(e, r)
        want = matches(e, rows)
        if parts is not None:
            want = [w for w in want if w["_p"] in parts]
        if want:
            nonempty += 1
        params = []
        fields = None
        c = r.random()
        if c < 0.15:
            params.append(("output_fields", "count(*)"))
        elif c < 0.35:
            fields = r.sample(FIELDS + ["id"], r.randint(1, 4))
            params.append(("output_fields", ",".join(fields)))
        elif c < 0.4:
            fields = "*v"
            params.append(("output_fields", "*,vector"))
        lim = off = None
        if c >= 0.15 and r.random() < 0.3:
            lim = r.randint(1, 30)
            params.append(("limit", str(lim)))
            if r.random() < 0.6:
                off = r.randint(0, 40)
                params.append(("offset", str(off)))
        if parts is not None and r.random() < 0.999:
            params.append(("partitions", ",".join(parts)))
        if isinstance(fields, list) and "id" in fields:
            fields = [f for f in fields if f != "id"]
        form = r.random()
        name = text + "".join("&%s=%s" % kv for kv in params)
        try:
            if form < 0.7 and len(name.encode()) <= 255 and "/" not in name:
                how = "inline"
                got = fetch(os.path.join(qdir, name))
            elif allow_desc and form < 0.85:
                how = "descriptor"
                body = "filter=" + text + "\n" + "".join("%s=%s\n" % kv for kv in params)
                got = fetch(os.path.join(qdir, "d%d" % (i % 7)), body)
            else:
                how = "saved"
                body = text + "\n" + "".join("%s=%s\n" % kv for kv in params)
                with open(os.path.join(qdir, "s%d" % (i % 5)), "w") as f:
                    f.write(body)
                got = fetch(os.path.join(qdir, "s%d" % (i % 5)))
        except OSError as x:
            bad.append("[%d] %s (%s): %s" % (i, name, how, x))
            continue
        what = "[%d] %s (%s)" % (i, name, how)
        if ("output_fields", "count(*)") in params:
            if got != "%d\n" % len(want):
                bad.append("%s: count: got %r, expected %d" % (what, got, len(want)))
            continue
        o = off or 0
        page = want[o:o + lim] if lim is not None else want[o:]
        m = check_objects(got, page, fields, what)
        if m:
            bad.append(m)
        if log:
            log.write("%s\t%d\n" % (what, len(page)))
    if log:
        log.write("non-empty answers: %d of %d\n" % (nonempty, count))
    return bad
