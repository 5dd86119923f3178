"""benchlib.py - what every benchmark driver needs: fvecs/ivecs readers,
file helpers that use only open()/read()/write(), and the TSV result
parser.  Debian /usr/bin/python3 + numpy."""
import subprocess
import sys
import time

import numpy as np


def read_vecs(path, dtype="<f4"):
    """(n, d) array from an fvecs ("<f4") or ivecs ("<i4") file."""
    raw = np.fromfile(path, dtype="<i4")
    dim = int(raw[0])
    return raw.reshape(-1, dim + 1)[:, 1:].copy().view(dtype)


def read_fvecs(path):
    return read_vecs(path, "<f4")


def read_ivecs(path):
    return read_vecs(path, "<i4")


def progress(tag, msg):
    print(f"[{tag} {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr,
          flush=True)


def put(path, data):
    with open(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)


def get(path):
    with open(path) as f:
        return f.read()


def parse_hits(text):
    """Search results (TSV): a list per query of (id, distance)."""
    out, cur = [], []
    for line in text.split("\n"):
        if not line:
            if cur:
                out.append(cur)
                cur = []
            continue
        i, d = line.split("\t")
        cur.append((int(i), float(d)))
    if cur:
        out.append(cur)
    return out


def parse_ids(text):
    """Search results (TSV): a list per query of ids."""
    return [[i for i, _ in q] for q in parse_hits(text)]


def gnuplot(gp, base):
    """Write the gnuplot script gp to base.gp and run it (it writes
    base.png); gnuplot-nox may lack pngcairo: then the plain png
    terminal."""
    put(base + ".gp", gp)
    r = subprocess.run(["gnuplot", base + ".gp"], capture_output=True, text=True)
    if r.returncode != 0:
        put(base + ".gp", gp.replace("pngcairo", "png"))
        subprocess.run(["gnuplot", base + ".gp"], check=False)
