#!/usr/bin/python3
"""bench_hnsw.py - the HNSW benchmark: milvusfs through its mount, next to
native hnswlib and faiss IndexHNSWFlat on the same vectors, in one run.

Run it through bench/run_bench (which builds what is needed):

    bench/run_bench hnsw [glove100|photosift128] [--threads N] [--out DIR]

Steps (everything on milvusfs goes through open/read/write on the mount):
  1. mount milvusfs on a fresh database in a temporary directory;
  2. import X_base.fvecs with `cat >> C/_default/vectors.fvecs`, schema
     metric COSINE (glove100) or L2 (photosift128);
  3. build: `echo "index_type=HNSW M=16 efConstruction=200" > C/index`
     (timed; `cat C/index` polled for progress meanwhile);
  4. load: `echo 1 > C/load` (timed), daemon RSS before and after;
  5. --rounds times (default 2), the peers of step 7 running between the
     rounds, each side keeping its best round (the machine's speed moves
     within minutes):
     for ef in 16..512: the 1,000 queries as one batch (a saved .fvecs
     query read as `search/q.fvecs&k=10&ef=N`, best of --repeat) and as
     1,000 single searches (`cat search/sI&ef=N`, one saved text query
     each: open/read/close), recall@10 against the exact ground truth;
     each single search follows a `cat count`, the round trip of a
     trivial file it is compared with (measured alongside, so both see
     the same machine);
  6. release, unmount, mount again, load the persisted index (timed);
  7. the peers: bench/hnsw_probe (the milvusfs index in-process) and
     bench/peers/hnsw_peer (hnswlib, -O3 -march=native) after each round
     of step 5, then bench/peers/faiss_hnsw.py once, all with the same M,
     efConstruction, ef and threads;
  8. a table with milvusfs/peer ratios, the targets, and recall-vs-QPS
     curves (gnuplot PNG) in --out.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time


import benchlib
from benchlib import get, put, read_vecs
from benchlib import parse_ids as parse_tsv

EFS = [16, 32, 64, 128, 256, 512]
K = 10


def progress(msg):
    benchlib.progress("bench", msg)


def recall(found, gt, k=K):
    hit = 0
    for q, ids in enumerate(found):
        truth = set(int(p) + 1 for p in gt[q, :k])
        hit += len(truth.intersection(ids[:k]))
    return hit / (len(gt) * k)


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))]


def rss_mib(pid, field="VmRSS"):
    """Resident MiB of pid: VmRSS (all), or RssAnon (the heap: not the
    pages of the LMDB file mapping that a load reads through)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    return 0.0


class Mount:
    """milvusfs -f on db, unmounted (exit status checked) by stop()."""

    def __init__(self, binary, db, mnt, threads, log):
        self.mnt = mnt
        self.log = open(log, "a")
        self.p = subprocess.Popen([binary, "-f", "-o",
                                   f"db={db},threads={threads}", mnt],
                                  stderr=self.log)
        for _ in range(400):
            if os.path.exists(os.path.join(mnt, ".errors")):
                return
            if self.p.poll() is not None:
                break
            time.sleep(0.05)
        sys.exit(f"milvusfs did not mount (log: {log})")

    def stop(self):
        subprocess.run(["fusermount3", "-u", self.mnt])
        rc = self.p.wait(timeout=120)
        self.log.close()
        if rc != 0:
            sys.exit(f"milvusfs exited {rc}")


def best_of(runs):
    """Merge rounds of one side ({"ef": {ef: {...}}, ...}): per ef the
    highest QPS, and the single-query figures of the round with the lowest
    p50 (with the round trip measured beside it); the lowest build time."""
    out = dict(runs[0])
    out["ef"] = {}
    for ef in runs[0]["ef"]:
        rs = [r["ef"][ef] for r in runs]
        b = dict(min(rs, key=lambda r: r["p50_ms"]))
        b["qps"] = max(r["qps"] for r in rs)
        b["recall"] = rs[0]["recall"]
        b["qps_rounds"] = [r["qps"] for r in rs]
        b["p50_rounds"] = [r["p50_ms"] for r in rs]
        if "cold_p50_ms" in rs[0]:
            b["cold_p50_ms"] = min(r["cold_p50_ms"] for r in rs)
        out["ef"][ef] = b
    if "build_s" in runs[0]:
        out["build_s"] = min(r["build_s"] for r in runs)
        out["build_rounds"] = [r["build_s"] for r in runs]
    return out


def sweep(a, ds, C, nsingle):
    """One pass over the ef values on the mount: the batch (best of
    --repeat) and nsingle single searches, each after a `cat count`."""
    qv = ds["qv"]
    res = {"ef": {}}
    for ef in a.efs:
        best, text = 1e9, ""
        for _ in range(a.repeat):
            t = time.perf_counter()
            text = get(f"{C}/search/q.fvecs&k={K}&ef={ef}")
            best = min(best, time.perf_counter() - t)
        r = {"qps": len(qv) / best, "recall": recall(parse_tsv(text), ds["gt"])}
        # Each single search alternates with a read of count, so the
        # round trip it is compared with is measured alongside it.
        lat, rt, found = [], [], []
        for i in range(nsingle):
            t = time.perf_counter()
            get(f"{C}/count")
            t1 = time.perf_counter()
            text = get(f"{C}/search/s{i}&ef={ef}")
            lat.append(time.perf_counter() - t1)
            rt.append(t1 - t)
            found.append(parse_tsv(text)[0])
        r["p50_ms"] = 1e3 * pct(lat, 50)
        r["p99_ms"] = 1e3 * pct(lat, 99)
        r["trivial_p50_ms"] = 1e3 * pct(rt, 50)
        r["single_recall"] = recall(found, ds["gt"][:nsingle])
        res["ef"][ef] = r
        progress(f"  milvusfs ef={ef}: recall {r['recall']:.4f}, "
                 f"batch {r['qps']:.0f} QPS, single p50 {r['p50_ms']:.3f} ms"
                 f" p99 {r['p99_ms']:.3f} ms")
    return res


def import_fvecs(C, ds, metric):
    """Create collection C with ds's dim and metric and import its base
    vectors with `cat >> vectors.fvecs`; the seconds that took."""
    os.mkdir(C)
    put(f"{C}/schema", f"dim={ds['dim']} metric_type={metric}\n")
    progress(f"importing {ds['nb']:,} vectors: cat >> vectors.fvecs")
    t = time.perf_counter()
    subprocess.run(f"cat '{ds['base']}' >> '{C}/_default/vectors.fvecs'",
                   shell=True, check=True)
    took = time.perf_counter() - t
    cnt = int(get(f"{C}/count"))
    if cnt != ds["nb"]:
        sys.exit(f"count {cnt} after importing {ds['nb']}")
    return took


def run_milvusfs(a, ds, res, between):
    tmp = tempfile.mkdtemp(prefix="mfs-bench-hnsw-")
    mnt, db, log = f"{tmp}/mnt", f"{tmp}/db", f"{tmp}/log"
    os.mkdir(mnt)
    C = f"{mnt}/bench"
    m = Mount(a.bin, db, mnt, a.threads, log)
    try:
        res["insert_s"] = import_fvecs(C, ds, ds["metric"])

        params = f"index_type=HNSW M={a.M} efConstruction={a.efc}"
        progress(f"building: echo \"{params}\" > index")
        done = threading.Event()

        def poll():
            last = None
            while not done.wait(2.0):
                try:
                    kv = dict(l.split("=", 1) for l in get(f"{C}/index").split("\n") if "=" in l)
                except OSError:
                    continue
                p = kv.get("progress")
                if p and p != last:
                    progress(f"  build progress {p}%")
                    last = p
        th = threading.Thread(target=poll, daemon=True)
        th.start()
        t = time.perf_counter()
        put(f"{C}/index", params + "\n")
        res["build_s"] = time.perf_counter() - t
        done.set()
        progress(f"built in {res['build_s']:.2f}s: " +
                 get(f"{C}/index").replace("\n", " "))

        rss0 = rss_mib(m.p.pid)
        anon0 = rss_mib(m.p.pid, "RssAnon")
        t = time.perf_counter()
        put(f"{C}/load", "1\n")
        res["load_s"] = time.perf_counter() - t
        res["rss_loaded_mib"] = rss_mib(m.p.pid)
        res["rss_index_mib"] = res["rss_loaded_mib"] - rss0
        res["anon_index_mib"] = rss_mib(m.p.pid, "RssAnon") - anon0
        progress(f"loaded in {res['load_s']:.3f}s, daemon RSS "
                 f"{res['rss_loaded_mib']:.1f} MiB (+{res['rss_index_mib']:.1f}, "
                 f"of which heap +{res['anon_index_mib']:.1f})")

        with open(ds["query"], "rb") as f:
            put(f"{C}/search/q.fvecs", f.read())
        qv = ds["qv"]
        nsingle = min(a.singles, len(qv))
        for i in range(nsingle):
            put(f"{C}/search/s{i}",
                f"k={K}\n" + ",".join("%.9g" % x for x in qv[i]) + "\n")
        triv = []
        for _ in range(1000):
            t = time.perf_counter()
            get(f"{C}/count")
            triv.append(time.perf_counter() - t)
        res["trivial_p50_ms"] = 1e3 * pct(triv, 50)
        res["trivial_p99_ms"] = 1e3 * pct(triv, 99)
        rounds = []
        for rnd in range(a.rounds):
            progress(f"milvusfs sweep, round {rnd + 1} of {a.rounds}")
            rounds.append(sweep(a, ds, C, nsingle))
            between(rnd)
        res["ef"] = best_of(rounds)["ef"]
        res["rss_after_mib"] = rss_mib(m.p.pid)

        progress("release, unmount, mount again, load the persisted index")
        put(f"{C}/release", "1\n")

        m.stop()
        m = Mount(a.bin, db, mnt, a.threads, log)
        t = time.perf_counter()
        put(f"{C}/load", "1\n")
        res["reload_s"] = time.perf_counter() - t
        text = get(f"{C}/search/q.fvecs&k={K}&ef=64")
        res["reload_recall64"] = recall(parse_tsv(text), ds["gt"])
        progress(f"reloaded in {res['reload_s']:.3f}s, recall@10 at ef=64 "
                 f"{res['reload_recall64']:.4f}")
    finally:
        m.stop()
    shutil.rmtree(tmp)


def run_peer(cmd, name):
    progress(f"{name}: {' '.join(cmd[:1])} ...")
    out = {"ef": {}}
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    for line in p.stdout:
        j = json.loads(line)
        if j["event"] == "build":
            out["build_s"] = j["seconds"]
            progress(f"  {name} built in {j['seconds']:.2f}s")
        elif j["event"] == "search":
            out["ef"][j["ef"]] = j
            progress(f"  {name} ef={j['ef']}: recall {j['recall']:.4f}, "
                     f"batch {j['qps']:.0f} QPS, p50 {j['p50_ms']:.3f} ms")
        elif j["event"] in ("memory", "persist"):
            out.update(j)
    if p.wait() != 0:
        sys.exit(f"{name} failed")
    return out


def qps_target_line(m, h, target):
    """The line judging milvusfs m against hnswlib h at one recall target
    (the first swept ef reaching it on each side)."""
    me, mq = qps_at(m, target)
    he, hq = qps_at(h, target)
    if not (mq and hq):
        return (f"recall@10 >= {target} not reached by "
                f"{'milvusfs' if not mq else 'hnswlib'} in the sweep")
    return (f"batch QPS at recall@10 >= {target}: milvusfs {mq:.0f} (ef={me})"
            f" vs hnswlib {hq:.0f} (ef={he}): {mq / hq:.2f}x "
            f"[target >= 1.0x: {'met' if mq >= hq else 'NOT met'}]")


def qps_at(r, target):
    """QPS at the smallest swept ef whose recall reaches target, or None."""
    for ef in sorted(r["ef"]):
        if r["ef"][ef]["recall"] >= target:
            return ef, r["ef"][ef]["qps"]
    return None, None


def main():
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser()
    ap.add_argument("dataset", nargs="?", default="glove100",
                    choices=["glove100", "photosift128"])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--peer", required=True, help="hnsw_peer binary")
    ap.add_argument("--probe", help="hnsw_probe binary (the index in-process)")
    ap.add_argument("--data", default=os.path.join(top, "..", "shared", "data"))
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--singles", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--M", type=int, default=16)
    ap.add_argument("--efc", type=int, default=200)
    ap.add_argument("--efs", default=",".join(map(str, EFS)))
    ap.add_argument("--out", default="bench-results")
    ap.add_argument("--no-faiss", action="store_true")
    a = ap.parse_args()
    a.efs = [int(x) for x in a.efs.split(",")]
    name = a.dataset
    d = os.path.join(a.data, name)
    ds = {"base": f"{d}/{name}_base.fvecs", "query": f"{d}/{name}_query.fvecs",
          "gt_path": f"{d}/{name}_groundtruth.ivecs",
          "metric": "COSINE" if name == "glove100" else "L2"}
    ds["qv"] = read_vecs(ds["query"])
    ds["gt"] = read_vecs(ds["gt_path"], "<i4")
    ds["nb"] = os.path.getsize(ds["base"]) // (4 + 4 * ds["qv"].shape[1])
    ds["dim"] = ds["qv"].shape[1]
    os.makedirs(a.out, exist_ok=True)
    progress(f"HNSW benchmark on {name} ({ds['nb']:,} x {ds['dim']}, "
             f"{ds['metric']}), M={a.M} efConstruction={a.efc}, "
             f"{a.threads} threads, ef {a.efs}")

    mfs = {}
    # hnswlib's batch is timed as milvusfs's: best of --repeat per round
    common = [ds["base"], ds["query"], ds["gt_path"], ds["metric"], str(a.M),
              str(a.efc), str(a.threads), ",".join(map(str, a.efs)),
              str(a.repeat)]
    ips, hls = [], []

    # The machine's speed moves within minutes: the peers run between the
    # rounds of milvusfs's sweep, and each side keeps its best round.
    def between(rnd):
        if a.probe:
            ips.append(run_peer([a.probe] + common,
                                f"milvusfs index in-process, round {rnd + 1}"))
        hls.append(run_peer([a.peer] + common, f"hnswlib, round {rnd + 1}"))

    run_milvusfs(a, ds, mfs, between)
    ip = best_of(ips) if ips else None
    hl = best_of(hls)
    fa = None
    if not a.no_faiss:
        fa = run_peer(["/usr/bin/python3",
                       os.path.join(top, "bench", "peers", "faiss_hnsw.py")]
                      + common, "faiss")
    report(a, ds, mfs, hl, fa, ip)


def report(a, ds, mfs, hl, fa, ip):
    lines = []

    def out(s=""):
        lines.append(s)
        print(s)

    out(f"\nHNSW on {a.dataset} ({ds['nb']:,} x {ds['dim']}, {ds['metric']}), "
        f"M={a.M} efConstruction={a.efc}, k={K}, {a.threads} threads, "
        f"{len(ds['qv'])} queries, best of {a.rounds} alternating rounds "
        f"per side")
    out(f"{'ef':>4} | {'recall@10':>9} {'hnswlib':>8} {'faiss':>7} | "
        f"{'QPS mfs':>8} {'hnswlib':>8} {'faiss':>8} {'mfs/hl':>6} | "
        f"{'p50 ms':>7} {'p99 ms':>7} {'hl p50':>7} {'hl p99':>7} {'fa p50':>7}")
    for ef in a.efs:
        m, h = mfs["ef"][ef], hl["ef"][ef]
        f = fa["ef"][ef] if fa else {"recall": float("nan"), "qps": float("nan"),
                                     "p50_ms": float("nan")}
        out(f"{ef:>4} | {m['recall']:9.4f} {h['recall']:8.4f} {f['recall']:7.4f} | "
            f"{m['qps']:8.0f} {h['qps']:8.0f} {f['qps']:8.0f} {m['qps'] / h['qps']:6.2f} | "
            f"{m['p50_ms']:7.3f} {m['p99_ms']:7.3f} {h['p50_ms']:7.3f} "
            f"{h['p99_ms']:7.3f} {f['p50_ms']:7.3f}")
    if 64 in a.efs and "qps_rounds" in mfs["ef"][64]:
        out("ef=64 by round: milvusfs QPS " +
            ", ".join(f"{x:.0f}" for x in mfs["ef"][64]["qps_rounds"]) +
            "; hnswlib QPS " +
            ", ".join(f"{x:.0f}" for x in hl["ef"][64]["qps_rounds"]) +
            "; milvusfs p50 " +
            ", ".join(f"{x:.3f}" for x in mfs["ef"][64]["p50_rounds"]) +
            " ms; hnswlib p50 " +
            ", ".join(f"{x:.3f}" for x in hl["ef"][64]["p50_rounds"]) +
            " ms; hnswlib build " +
            ", ".join(f"{x:.2f}" for x in hl.get("build_rounds", [])) + " s")
    if ip:
        out("\nthe milvusfs index in-process (no filesystem), same build and sweep:")
        out(f"{'ef':>4} | {'recall@10':>9} {'QPS':>8} {'/hnswlib':>8} | "
            f"{'p50 ms':>7} {'p99 ms':>7} {'mean ms':>7} | {'hl mean':>7} | "
            f"{'cold p50':>8} {'hl cold':>7}")
        for ef in a.efs:
            r, h = ip["ef"][ef], hl["ef"][ef]
            out(f"{ef:>4} | {r['recall']:9.4f} {r['qps']:8.0f} {r['qps'] / h['qps']:8.2f} | "
                f"{r['p50_ms']:7.3f} {r['p99_ms']:7.3f} {r['mean_ms']:7.3f} | "
                f"{h['mean_ms']:7.3f} | {r['cold_p50_ms']:8.3f} {h['cold_p50_ms']:7.3f}")
        out("(cold: each single query after 7 cross-CPU wake-up round trips, as a "
            "search through the mount follows; bench/peers/coldgap.h)")
        out(f"in-process build {ip['build_s']:.2f}s ({ip['build_s'] / hl['build_s']:.2f}x hnswlib); "
            f"memory_bytes() {ip['index_bytes'] / 2**20:.2f} MiB vs hnswlib vectors+graph "
            f"{hl['index_bytes'] / 2**20:.2f} MiB ({ip['index_bytes'] / hl['index_bytes']:.2f}x)")
        if "restore_s" in ip:
            out(f"in-process save {ip['save_s']:.3f}s, blob {ip['blob_bytes'] / 2**20:.1f} MiB; "
                f"restore (graph + {ds['nb']:,} vectors, no rebuild) {ip['restore_s']:.3f}s")
    out()
    hl_mib = hl["index_bytes"] / 2**20
    out(f"build s:  milvusfs {mfs['build_s']:.2f}  hnswlib {hl['build_s']:.2f}  "
        + (f"faiss {fa['build_s']:.2f}  " if fa else "")
        + f"ratio {mfs['build_s'] / hl['build_s']:.2f}")
    out(f"load s:   milvusfs {mfs['load_s']:.3f} (after the build), "
        f"{mfs['reload_s']:.3f} (persisted index, after a remount; "
        f"recall@10 at ef=64 then {mfs['reload_recall64']:.4f})")
    out(f"memory:   milvusfs daemon RSS {mfs['rss_loaded_mib']:.1f} MiB, "
        f"+{mfs['rss_index_mib']:.1f} MiB for the load (heap, RssAnon: "
        f"+{mfs['anon_index_mib']:.1f}; the rest is LMDB file pages the load "
        f"read through); hnswlib vectors+graph "
        f"{hl_mib:.1f} MiB (RSS +{hl['rss_index_mib']:.1f}); ratio "
        f"{mfs['rss_index_mib'] / hl_mib:.2f}"
        + (f"; faiss RSS +{fa['rss_index_mib']:.1f} MiB" if fa else ""))
    out(f"trivial file round trip (cat count): p50 {mfs['trivial_p50_ms']:.3f} ms,"
        f" p99 {mfs['trivial_p99_ms']:.3f} ms")
    out("\ntargets:")
    for target in (0.95, 0.99):
        out("  " + qps_target_line(mfs, hl, target))
    for ef in (64,):
        if ef in mfs["ef"]:
            m, h = mfs["ef"][ef], hl["ef"][ef]
            rt = m.get("trivial_p50_ms", mfs["trivial_p50_ms"])
            # The issue's sentence: "within 1.3x of hnswlib's in-process
            # single-query latency plus the filesystem round trip of a
            # trivial file", i.e. 1.3 x (hnswlib + round trip).  The
            # stricter 1.3 x hnswlib + round trip is printed beside it.
            bound = 1.3 * (h["p50_ms"] + rt)
            strict = 1.3 * h["p50_ms"] + rt
            out(f"  single-query p50 at ef={ef}: {m['p50_ms']:.3f} ms vs "
                f"1.3 x (hnswlib {h['p50_ms']:.3f} + round trip {rt:.3f} "
                f"(cat count, alternating with the searches)) = "
                f"{bound:.3f} ms "
                f"[{'met' if m['p50_ms'] <= bound else 'NOT met'}]")
            out(f"    stricter reading, 1.3 x hnswlib + round trip = "
                f"{strict:.3f} ms: "
                f"{'met' if m['p50_ms'] <= strict else 'not met'}"
                f" ({100 * (m['p50_ms'] / strict - 1):+.0f}%)")
            if "cold_p50_ms" in h:
                cb = 1.3 * h["cold_p50_ms"] + rt
                out(f"    (for the reason: hnswlib cold, as a search "
                    f"through the mount is, {h['cold_p50_ms']:.3f}"
                    + (f", the milvusfs index in-process cold "
                       f"{ip['ef'][ef]['cold_p50_ms']:.3f}" if ip else "")
                    + f"; stricter reading with hnswlib cold: 1.3 x "
                    f"{h['cold_p50_ms']:.3f} + {rt:.3f} = {cb:.3f} ms, "
                    f"{'met' if m['p50_ms'] <= cb else 'not met'})")
    out(f"  build time {mfs['build_s'] / hl['build_s']:.2f}x hnswlib "
        f"[target <= 1.0x: {'met' if mfs['build_s'] <= hl['build_s'] else 'NOT met'}]")
    if ip:
        r = ip["index_bytes"] / hl["index_bytes"]
        out(f"  memory (index memory_bytes) {r:.2f}x hnswlib vectors+graph "
            f"[target <= 1.3x: {'met' if r <= 1.3 else 'NOT met'}]")
    ra = mfs["anon_index_mib"] / hl_mib
    out(f"  memory (daemon heap growth at load, RssAnon) {ra:.2f}x hnswlib "
        f"vectors+graph [target <= 1.3x: {'met' if ra <= 1.3 else 'NOT met'}]; "
        f"with the LMDB pages read (VmRSS) {mfs['rss_index_mib'] / hl_mib:.2f}x")

    base = os.path.join(a.out, f"hnsw-{a.dataset}")
    with open(base + ".txt", "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(base + ".json", "w") as f:
        json.dump({"milvusfs": mfs, "hnswlib": hl, "faiss": fa,
                   "inproc": ip}, f, indent=1,
                  default=str)
    with open(base + ".dat", "w") as f:
        for label, r, key in (("milvusfs", mfs, "qps"), ("hnswlib", hl, "qps"),
                              ("faiss", fa, "qps"), ("in-process", ip, "qps")):
            if not r:
                continue
            f.write(f"# {label}\n")
            for ef in a.efs:
                f.write(f"{r['ef'][ef]['recall']} {r['ef'][ef][key]} {ef}\n")
            f.write("\n\n")
    gp = f"""set terminal pngcairo size 900,600 noenhanced
set output '{base}.png'
set title 'HNSW recall@10 vs batch QPS, {a.dataset}, M={a.M} efC={a.efc}, {a.threads} threads'
set xlabel 'recall@10'
set ylabel 'queries per second'
set logscale y
set grid
set key bottom left
plot '{base}.dat' index 0 with linespoints title 'milvusfs (through the mount)', \\
     '{base}.dat' index 1 with linespoints title 'hnswlib (native, in-process)'""" + \
        (f""", \\
     '{base}.dat' index 2 with linespoints title 'faiss IndexHNSWFlat'""" if fa else "") + \
        (f""", \\
     '{base}.dat' index {3 if fa else 2} with linespoints title 'milvusfs index in-process'""" if ip else "") + "\n"
    benchlib.gnuplot(gp, base)
    out(f"\nresults: {base}.txt .json .dat, plot {base}.png")


if __name__ == "__main__":
    main()
