#!/bin/sh
# search_group.sh - grouping search (SPEC §10): group_by_field on INT64,
# VARCHAR and BOOL fields, group_size, strict_group_size, offset, with a
# filter and output_fields; FLAT equals a brute-force grouping exactly,
# HNSW gives well-formed groups; errors (a FLOAT field, an unknown field,
# group_size alone, bad values) are EINVAL.
. "$(dirname "$0")/lib.sh"
mfs_mount

py_check "$M" "$T" <<'EOF' || fail "grouping search"
M, T = sys.argv[1], sys.argv[2]

N, DIM = 6000, 8
base, qs = make_float(N, DIM, 21)
near = near_mask(base)
C = M + "/g"
os.mkdir(C)
save(C + "/schema", "dim=%d metric_type=L2 field=bucket:INT64 field=tag:VARCHAR(8) field=f:FLOAT field=near:BOOL field=meta:JSON:nullable\n" % DIM)
write_jsonl(T + "/g.jsonl", base, near)
with open(T + "/g.jsonl") as f, open(C + "/entities.jsonl", "a") as o:
    o.write(f.read())
save(C + "/load", "1\n")

def key(field, i):
    return fields(i, near)[field]

def ref(q, field, k, gs, offset=0, allowed=None):
    sc, dist = scores("L2", base, q)
    order = np.lexsort((np.arange(N), sc))
    groups, members = [], {}
    for i in order:
        if allowed is not None and not allowed[i]:
            continue
        g = key(field, i)
        if g not in members:
            if len(groups) == k + offset:
                continue
            groups.append(g)
            members[g] = []
        if len(members[g]) < gs:
            members[g].append(int(i))
    return [i for g in groups[offset:] for i in members[g]]

for index in (None, "index_type=HNSW M=16 efConstruction=100"):
    if index:
        save(C + "/index", index + "\n")
    for field, k, gs, strict, off, filt in (
            ("bucket", 5, 1, False, 0, None), ("tag", 3, 4, True, 0, None),
            ("near", 2, 3, False, 0, None), ("bucket", 4, 2, True, 2, None),
            ("tag", 2, 5, True, 0, "bucket < 50")):
        allowed = None if not filt else np.arange(N) % NB < 50
        for qi, q in enumerate(qs[:6]):
            text = "k=%d\noffset=%d\ngroup_by_field=%s\ngroup_size=%d\nstrict_group_size=%s\n%soutput_fields=%s\n%s\n" % (
                k, off, field, gs, "true" if strict else "false",
                "filter=%s\n" % filt if filt else "", field, fmt_vec(q))
            save(C + "/search/gq", text)
            hits = parse_tsv(read(C + "/search/gq"), 1)[0]
            got = [h[0] for h in hits]
            tag = "%s %s k=%d gs=%d off=%d %s q%d" % (index or "FLAT", field, k, gs, off, filt, qi)
            # the printed field is the entity's own
            for h in hits:
                v = key(field, h[0])
                check(h[2] == json.dumps(v), "%s: field of %d printed %s, expected %s" % (tag, h[0], h[2], json.dumps(v)))
                check(allowed is None or allowed[h[0]], "%s: %d does not match the filter" % (tag, h[0]))
            want = ref(q, field, k, gs, off, allowed)
            if index is None and strict:
                check(got == want, "%s: %s, expected %s" % (tag, got, want))
            elif index is None:
                # best effort: the right groups in order, each a prefix
                # of the group's true members (SPEC §10: up to N hits)
                gw = [key(field, i) for i in want]
                gg = [key(field, i) for i in got]
                check(sorted(set(gg), key=gg.index) == sorted(set(gw), key=gw.index),
                      "%s: groups %s, expected %s" % (tag, gg, gw))
                for g in set(gw):
                    mg = [i for i in got if key(field, i) == g]
                    mw = [i for i in want if key(field, i) == g]
                    check(mg == mw[:len(mg)] and len(mg) >= 1, "%s: group %r %s, expected %s" % (tag, g, mg, mw))
            else:
                # well formed: at most k groups, each contiguous and at most gs
                seen, last = [], None
                for i in got:
                    g = key(field, i)
                    if g != last:
                        check(g not in seen, "%s: group %r split" % (tag, g))
                        seen.append(g)
                        last = g
                check(len(seen) <= k, "%s: %d groups" % (tag, len(seen)))
                check(all(sum(1 for i in got if key(field, i) == g) <= gs for g in seen), "%s: a group over size" % tag)
                if strict:
                    check(len(set(got) & set(want)) >= 0.8 * len(want), "%s: %s far from %s" % (tag, got, want))

v = fmt_vec(np.round(qs[0], 1))
for params, want_e in (
        ("group_by_field=f", "EINVAL"),            # FLOAT
        ("group_by_field=meta", "EINVAL"),         # JSON
        ("group_by_field=nosuch", "EINVAL"),
        ("group_size=2", "EINVAL"),                # without group_by_field
        ("strict_group_size=true", "EINVAL"),
        ("group_by_field=bucket&group_size=0", "EINVAL"),
        ("group_by_field=bucket&group_size=2000", "EINVAL"),
        ("group_by_field=bucket&strict_group_size=maybe", "EINVAL"),
        ("group_by_field=bucket&radius=3", "EINVAL"),
        ("group_by_field=bucket&group_size=3", "OK")):
    e = errno_of(C + "/search/%s&%s" % (v, params))
    check(e == want_e, "%s: %s, expected %s" % (params, e, want_e))
sys.exit(1 if bad else 0)
EOF
