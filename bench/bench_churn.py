#!/usr/bin/python3
"""bench_churn.py - a long-lived collection under churn (issue 16, SPEC
§11): milvusfs through its mount and hnswlib in-process, same data, same
rounds, same parameters, in one run.

    bench/bench_churn.py [--data DIR] [--rounds 20] [--frac 0.1]
                         [--n N] [--threads 2] [--bin build/milvusfs]
                         [--work DIR] [--out DIR] [--alt-rounds 5]
    bench/bench_churn.py --alt-qps WORK [--alt-rounds N]   (QPS pairs again)
    bench/bench_churn.py --plot LOG [--out DIR]            (the plot again)

glove100 (COSINE), HNSW M=16 efConstruction=200, ef=64, k=10.  Each round
deletes FRAC of the live entities (chosen by a seeded RNG) and inserts as
many new ones (a base vector of a deleted entity plus noise, a new id):
milvusfs through `delete` and `vectors` (id<TAB>vector lines), hnswlib by
mark_deleted and add_items (Debian's hnswlib has no replace_deleted).  After each round:
recall@10 of the 1,000 queries at ef=64 against numpy brute force over
the live entities, batch QPS (the queries as one batch, best of 3),
`stats` memory_bytes and deleted_pending, the daemon's RssAnon, data.mdb
size, `compact` runs; the smallest hit count of any query (never < k while
k entities exist).  At the end: `echo 1 > compact`, then a fresh milvusfs
of the same live entities (import, build, load) for the ratios, and the
load after 50,000 inserts made after a build.  Prints a Markdown table
and writes churn-glove100.{dat,gp,png} (memory and recall per round,
gnuplot) to --out (default the work directory); `--plot LOG` makes the
plot again from the saved output of a finished run.
"""
import argparse
import atexit
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

import benchlib
from benchlib import get, put, read_fvecs, parse_ids

K, EF, M_, EFC = 10, 64, 16, 200


def progress(msg):
    benchlib.progress("churn", msg)


def rss_anon_mib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024.0
    return 0.0


class Mount:
    def __init__(self, binary, db, threads, log):
        self.mnt = tempfile.mkdtemp(prefix="mfs-churn-mnt.")
        self.log = open(log, "a")
        self.p = subprocess.Popen([binary, "-f", "-o",
                                   f"db={db},threads={threads}", self.mnt],
                                  stdout=self.log, stderr=self.log)
        atexit.register(self.cleanup)
        for _ in range(400):
            if os.path.ismount(self.mnt) and os.path.exists(self.mnt + "/.errors"):
                return
            time.sleep(0.05)
        sys.exit(f"milvusfs did not mount (log: {log})")

    def cleanup(self):
        # A driver that fails leaves no mount behind.
        if self.p.poll() is None:
            subprocess.run(["fusermount3", "-u", self.mnt])
            self.p.wait(timeout=600)
        if self.mnt and os.path.isdir(self.mnt):
            os.rmdir(self.mnt)

    def stop(self):
        subprocess.run(["fusermount3", "-u", self.mnt])
        rc = self.p.wait(timeout=600)
        self.log.close()
        os.rmdir(self.mnt)
        self.mnt = ""
        if rc != 0:
            sys.exit(f"milvusfs exited {rc}")


def lines(ids, vecs):
    return "".join("%d\t%s\n" % (i, ",".join("%.6g" % x for x in v))
                   for i, v in zip(ids, vecs))


def stat(C):
    return dict(l.split("=", 1) for l in get(C + "/stats").split("\n") if l)


def compact_info(C):
    return dict(l.split("=", 1) for l in get(C + "/compact").split("\n") if l)


def truth(live_vecs_n, qn, live_ids):
    s = qn @ live_vecs_n.T
    top = np.argpartition(-s, K - 1, axis=1)[:, :K]
    return [set(live_ids[t].tolist()) for t in top], s


def recall_of(found, tsets, s, live_pos):
    # A hit counts when its similarity reaches the true 10th best (ties).
    good = 0
    for qi, hits in enumerate(found):
        kth = np.sort(s[qi])[-K]
        good += sum(1 for h in hits[:K]
                    if h in live_pos and s[qi][live_pos[h]] >= kth - 1e-6)
    return good / float(len(found) * K)


def wait_idle(C):
    while compact_info(C).get("state") != "Idle":
        time.sleep(0.2)


def mfs_batch(C, qpath):
    best, text = 1e9, ""
    for _ in range(3):
        t = time.perf_counter()
        text = get(f"{C}/search/q.fvecs&k={K}&ef={EF}")
        best = min(best, time.perf_counter() - t)
    return parse_ids(text), best


def alt_qps(binary, work, threads, rounds=5):
    """Batch QPS of the churned database (WORK/db) and the fresh one
    (WORK/fresh), both mounted and loaded, measured alternately (best of 3
    each time) `rounds` times: the machine's speed moves within minutes,
    and one side measured in a slow minute made the ratio noise.  Returns
    (churned best, fresh best, per-round pairs)."""
    log = os.path.join(work, "milvusfs.log")
    ms = [Mount(binary, os.path.join(work, d), threads, log)
          for d in ("db", "fresh")]
    Cs = [m.mnt + "/g" for m in ms]
    for C in Cs:
        put(C + "/load", "1\n")
    pairs = []
    for _ in range(rounds):
        pairs.append([len(f) / b for f, b in (mfs_batch(C, None) for C in Cs)])
    for C in Cs:
        put(C + "/release", "1\n")
    for m in ms:
        m.stop()
    return (max(p[0] for p in pairs), max(p[1] for p in pairs), pairs)


def write_plot(rows, fresh, base):
    """base.dat, base.gp, base.png (gnuplot): memory (memory_bytes, the
    daemon's RssAnon, data.mdb) and recall@10 per round, with the fresh
    build's values as flat lines.  rows: the per-round dicts of measure()
    (the last one, after the final compaction, is drawn as round
    rounds+1); fresh: dict(mem, rss, db, recall)."""
    with open(base + ".dat", "w") as f:
        f.write("# round mfs_mem mfs_rss mfs_db mfs_recall hl_recall "
                "fresh_mem fresh_rss fresh_db fresh_recall\n")
        for r in rows:
            f.write("%d %.2f %.2f %.2f %.4f %.4f %.2f %.2f %.2f %.4f\n" % (
                r["round"], r["mfs_mem"], r["mfs_rss"], r["mfs_db"],
                r["mfs_recall"], r["hl_recall"], fresh["mem"], fresh["rss"],
                fresh["db"], fresh["recall"]))
    last = rows[-1]["round"]
    gp = f"""set terminal pngcairo size 900,900 noenhanced
set output '{base}.png'
set multiplot layout 2,1 title "glove100, HNSW M=16 efC=200, ef=64, k=10: each round deletes 10% and inserts 10%\\nround {last}: after echo 1 > compact; dashed: a fresh build of the same entities"
set grid
set key bottom right
set xrange [-0.5:{last}.5]
set xlabel 'round'
set ylabel 'MiB'
set yrange [0:*]
plot '{base}.dat' using 1:2 with linespoints lw 2 lc 1 title 'memory_bytes', \\
     '{base}.dat' using 1:3 with linespoints lw 2 lc 2 title 'daemon RssAnon', \\
     '{base}.dat' using 1:4 with linespoints lw 2 lc 3 title 'data.mdb', \\
     '{base}.dat' using 1:7 with lines dt 2 lc 1 notitle, \\
     '{base}.dat' using 1:8 with lines dt 2 lc 2 notitle, \\
     '{base}.dat' using 1:9 with lines dt 2 lc 3 notitle
set ylabel 'recall@10 (exact ground truth of the live entities)'
set yrange [0.9:1]
plot '{base}.dat' using 1:5 with linespoints lw 2 lc 1 title 'milvusfs', \\
     '{base}.dat' using 1:6 with linespoints lc 2 title 'hnswlib (mark_deleted + add_items)', \\
     '{base}.dat' using 1:10 with lines dt 2 lc 1 notitle
unset multiplot
"""
    benchlib.gnuplot(gp, base)


def rows_of_log(path):
    """The per-round rows and the fresh build's values from the output of
    a finished run (its `round=...` progress lines and its `fresh build`
    line), for --plot."""
    import re
    rows, fresh = [], None
    for line in open(path):
        if "] round=" in line:
            kv = dict(x.split("=", 1) for x in line.split("] ", 1)[1].split())
            rows.append({k: (int(v) if k in ("round", "live", "mfs_minhits",
                                             "mfs_pending", "mfs_compactions",
                                             "hl_elems") else float(v))
                         for k, v in kv.items()})
        m = re.match(r"fresh build of the same \d+ entities: recall ([\d.]+), "
                     r"QPS \d+, memory_bytes ([\d.]+) MiB, RssAnon ([\d.]+) MiB, "
                     r"data.mdb ([\d.]+) MiB", line)
        if m:
            fresh = dict(recall=float(m[1]), mem=float(m[2]), rss=float(m[3]),
                         db=float(m[4]))
    if not rows or not fresh:
        sys.exit(f"{path}: no round lines or no fresh build line")
    return rows, fresh


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.environ.get(
        "MFS_DATA", os.path.join(os.path.dirname(__file__), "../../shared/data")))
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--frac", type=float, default=0.1)
    ap.add_argument("--n", type=int, default=0, help="first N base vectors")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--bin", default=os.path.join(
        os.path.dirname(__file__), "../build/milvusfs"))
    ap.add_argument("--work", default=None)
    ap.add_argument("--alt-qps", metavar="WORK",
                    help="only the alternating QPS of WORK/db and WORK/fresh "
                    "(the --work of a finished run)")
    ap.add_argument("--alt-rounds", type=int, default=5,
                    help="pairs of the alternating QPS measure")
    ap.add_argument("--out", default=None,
                    help="where churn-glove100.{dat,gp,png} go (default: --work)")
    ap.add_argument("--plot", metavar="LOG",
                    help="only the plot, from the saved output of a finished run")
    a = ap.parse_args()
    if a.plot:
        rows, fresh = rows_of_log(a.plot)
        base = os.path.join(a.out or ".", "churn-glove100")
        write_plot(rows, fresh, base)
        print(base + ".png")
        return
    if a.alt_qps:
        c, f, pairs = alt_qps(a.bin, a.alt_qps, a.threads, a.alt_rounds)
        print("alternating batch QPS, churned / fresh: " +
              ", ".join(f"{x:.0f}/{y:.0f}" for x, y in pairs) +
              f"; best {c:.0f} / {f:.0f} = {c / f:.3f}x (target >= 0.95)")
        return
    import hnswlib

    base = read_fvecs(f"{a.data}/glove100/glove100_base.fvecs")
    if a.n:
        base = base[:a.n]
    qv = read_fvecs(f"{a.data}/glove100/glove100_query.fvecs")
    n, dim = base.shape
    norm = lambda x: x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-30)
    qn = norm(qv.astype(np.float64))
    work = a.work or tempfile.mkdtemp(prefix="mfs-churn.")
    log = os.path.join(work, "milvusfs.log")
    rng = np.random.RandomState(16)

    # Live state, kept by the driver: id -> vector.
    vec_of = {i + 1: base[i] for i in range(n)}
    next_id = n + 1

    m = Mount(a.bin, os.path.join(work, "db"), a.threads, log)
    C = m.mnt + "/g"
    os.mkdir(C)
    put(C + "/schema", f"dim={dim} metric_type=COSINE\n")
    qb = np.empty((qv.shape[0], dim + 1), dtype="<i4")
    qb[:, 0] = dim
    qb[:, 1:] = qv.view("<i4")
    t = time.perf_counter()
    put(C + "/vectors", lines(range(1, n + 1), base))
    progress(f"imported {n} in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    put(C + "/index", f"index_type=HNSW M={M_} efConstruction={EFC}\n")
    mfs_build = time.perf_counter() - t
    put(C + "/load", "1\n")
    put(C + "/search/q.fvecs", qb.tobytes())
    progress(f"milvusfs build {mfs_build:.1f} s")

    hl = hnswlib.Index(space="cosine", dim=dim)
    # Debian's hnswlib predates allow_replace_deleted: deleted elements
    # stay (marked) and new ones are added, growing the index.
    hl.init_index(max_elements=n, ef_construction=EFC, M=M_)
    hl.set_num_threads(a.threads)
    t = time.perf_counter()
    hl.add_items(base, np.arange(1, n + 1), num_threads=a.threads)
    hl_build = time.perf_counter() - t
    hl.set_ef(EF)
    progress(f"hnswlib build {hl_build:.1f} s")

    rows = []

    def measure(rnd):
        live_ids = np.array(sorted(vec_of), dtype=np.int64)
        lv = norm(np.array([vec_of[i] for i in live_ids], dtype=np.float64))
        pos = {int(i): j for j, i in enumerate(live_ids)}
        tsets, s = truth(lv, qn, live_ids)
        found, tb = mfs_batch(C, None)
        minhits = min(len(h) for h in found)
        r_m = recall_of(found, tsets, s, pos)
        best = 1e9
        for _ in range(3):
            t = time.perf_counter()
            lab, _ = hl.knn_query(qv, k=K, num_threads=a.threads)
            best = min(best, time.perf_counter() - t)
        r_h = recall_of([list(map(int, x)) for x in lab], tsets, s, pos)
        st = stat(C)
        ci = compact_info(C)
        row = dict(round=rnd, live=len(live_ids),
                   mfs_recall=r_m, mfs_qps=len(qv) / tb, mfs_minhits=minhits,
                   mfs_mem=int(st["memory_bytes"]) / 2**20,
                   mfs_pending=int(st["deleted_pending"]),
                   mfs_rss=rss_anon_mib(m.p.pid),
                   mfs_db=os.path.getsize(os.path.join(work, "db", "data.mdb")) / 2**20,
                   mfs_compactions=int(ci["runs"]),
                   hl_recall=r_h, hl_qps=len(qv) / best,
                   hl_elems=hl.get_current_count())
        rows.append(row)
        progress(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                          for k, v in row.items()))

    measure(0)
    for rnd in range(1, a.rounds + 1):
        live = np.array(sorted(vec_of), dtype=np.int64)
        nd = int(len(live) * a.frac)
        dele = rng.choice(live, nd, replace=False)
        src = base[rng.randint(0, n, nd)]
        new = (src + 0.05 * rng.standard_normal(src.shape) *
               np.abs(src).mean()).astype(np.float32)
        nids = np.arange(next_id, next_id + nd)
        next_id += nd
        t = time.perf_counter()
        put(C + "/delete", "".join("%d\n" % i for i in dele))
        put(C + "/vectors", lines(nids, new))
        t_m = time.perf_counter() - t
        t = time.perf_counter()
        for i in dele:
            hl.mark_deleted(int(i))
        if hl.get_current_count() + nd > hl.get_max_elements():
            hl.resize_index(hl.get_current_count() + nd)
        hl.add_items(new, nids, num_threads=a.threads)
        t_h = time.perf_counter() - t
        for i in dele:
            del vec_of[int(i)]
        for i, v in zip(nids, new):
            vec_of[int(i)] = v
        progress(f"round {rnd}: churn milvusfs {t_m:.1f} s, hnswlib {t_h:.1f} s")
        wait_idle(C)
        measure(rnd)

    t = time.perf_counter()
    put(C + "/compact", "1\n")
    progress(f"final compaction {time.perf_counter() - t:.1f} s")
    measure(a.rounds + 1)
    churned = rows[-1]
    m.stop()
    # At mount the store rewrites a data.mdb whose free pages are 25% of
    # it or more (src/store/env.c, "the file shrinks at open").
    m = Mount(a.bin, os.path.join(work, "db"), a.threads, log)
    churned["mfs_db_remount"] = os.path.getsize(
        os.path.join(work, "db", "data.mdb")) / 2**20
    m.stop()

    # A fresh build of the same live entities.
    live_ids = np.array(sorted(vec_of), dtype=np.int64)
    lv = np.array([vec_of[i] for i in live_ids], dtype=np.float32)
    m = Mount(a.bin, os.path.join(work, "fresh"), a.threads, log)
    C = m.mnt + "/g"
    os.mkdir(C)
    put(C + "/schema", f"dim={dim} metric_type=COSINE\n")
    put(C + "/vectors", lines(live_ids, lv))
    put(C + "/index", f"index_type=HNSW M={M_} efConstruction={EFC}\n")
    put(C + "/load", "1\n")
    put(C + "/search/q.fvecs", qb.tobytes())
    pos = {int(i): j for j, i in enumerate(live_ids)}
    tsets, s = truth(norm(lv.astype(np.float64)), qn, live_ids)
    found, tb = mfs_batch(C, None)
    fresh = dict(recall=recall_of(found, tsets, s, pos), qps=len(qv) / tb,
                 mem=int(stat(C)["memory_bytes"]) / 2**20,
                 rss=rss_anon_mib(m.p.pid),
                 db=os.path.getsize(os.path.join(work, "fresh", "data.mdb")) / 2**20)
    m.stop()

    # Load after 50,000 inserts made after the build (the first n-50,000
    # built, then 50,000 inserted while loaded; release folds them).
    m = Mount(a.bin, os.path.join(work, "load50k"), a.threads, log)
    C = m.mnt + "/g"
    os.mkdir(C)
    nb = max(n - 50000, n // 2)
    put(C + "/schema", f"dim={dim} metric_type=COSINE\n")
    put(C + "/vectors", lines(range(1, nb + 1), base[:nb]))
    put(C + "/index", f"index_type=HNSW M={M_} efConstruction={EFC}\n")
    put(C + "/load", "1\n")
    put(C + "/vectors", lines(range(nb + 1, n + 1), base[nb:]))
    t = time.perf_counter()
    put(C + "/release", "1\n")
    rel_s = time.perf_counter() - t
    t = time.perf_counter()
    put(C + "/load", "1\n")
    load_s = time.perf_counter() - t
    past = stat(C)["loaded_past_index"]
    m.stop()

    qc, qf, pairs = alt_qps(a.bin, work, a.threads, a.alt_rounds)
    out = []
    out.append(f"glove100 first {n} x {dim} COSINE, HNSW M={M_} efConstruction={EFC}, "
               f"ef={EF}, k={K}, {a.rounds} rounds of {a.frac:.0%} delete + "
               f"{a.frac:.0%} insert, threads={a.threads}")
    out.append(f"build: milvusfs {mfs_build:.1f} s, hnswlib {hl_build:.1f} s")
    out.append("")
    out.append("| round | live | mfs recall | hnswlib recall | mfs QPS | hnswlib QPS "
               "| mfs memory_bytes MiB | mfs RssAnon MiB | data.mdb MiB "
               "| deleted_pending | compactions | min hits | hnswlib elements |")
    out.append("|" + "---|" * 13)
    for r in rows:
        out.append(f"| {r['round'] if r['round'] <= a.rounds else 'compact'} "
                   f"| {r['live']} | {r['mfs_recall']:.4f} | {r['hl_recall']:.4f} "
                   f"| {r['mfs_qps']:.0f} | {r['hl_qps']:.0f} | {r['mfs_mem']:.1f} "
                   f"| {r['mfs_rss']:.1f} | {r['mfs_db']:.1f} | {r['mfs_pending']} "
                   f"| {r['mfs_compactions']} | {r['mfs_minhits']} | {r['hl_elems']} |")
    out.append("")
    out.append(f"fresh build of the same {len(live_ids)} entities: recall "
               f"{fresh['recall']:.4f}, QPS {fresh['qps']:.0f}, memory_bytes "
               f"{fresh['mem']:.1f} MiB, RssAnon {fresh['rss']:.1f} MiB, data.mdb "
               f"{fresh['db']:.1f} MiB")
    out.append(f"churned/fresh: memory_bytes {churned['mfs_mem'] / fresh['mem']:.3f}x "
               f"(target <= 1.1), RssAnon {churned['mfs_rss'] / fresh['rss']:.3f}x "
               f"(<= 1.1), recall {churned['mfs_recall'] - fresh['recall']:+.4f} "
               f"(within 0.005), QPS {churned['mfs_qps'] / fresh['qps']:.3f}x "
               f"(>= 0.95), data.mdb {churned['mfs_db'] / fresh['db']:.3f}x (<= 1.5), "
               f"after a remount {churned['mfs_db_remount']:.1f} MiB, "
               f"{churned['mfs_db_remount'] / fresh['db']:.3f}x")
    out.append("alternating batch QPS, churned / fresh (both mounted): " +
               ", ".join(f"{x:.0f}/{y:.0f}" for x, y in pairs) +
               f"; best {qc:.0f} / {qf:.0f} = {qc / qf:.3f}x (target >= 0.95)")
    out.append(f"min hits over every round: {min(r['mfs_minhits'] for r in rows)} "
               f"(k={K})")
    out.append(f"load after {n - nb} inserts made after the build: release "
               f"(folds them) {rel_s:.2f} s, load {load_s:.2f} s (target <= 0.3), "
               f"loaded_past_index={past}")
    print("\n".join(out))
    base = os.path.join(a.out or work, "churn-glove100")
    write_plot(rows, fresh, base)
    progress(f"plot: {base}.png")


if __name__ == "__main__":
    main()
