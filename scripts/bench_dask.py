#!/usr/bin/env python3
"""Throughput of the Python package (signals or images per second): in process (all cores,
one thread, two Python threads), and on a Dask LocalCluster of one and two worker
processes. Writes its section of docs/benchmarks.md (between the bench-dask markers).
Run through scripts/bench-dask, which prepares the venv and builds the package."""
import argparse
import os
import threading
import time

import numpy as np

BEGIN, END = "<!-- bench-dask begin -->", "<!-- bench-dask end -->"

CONFIGS = [
    dict(name="1D J=8, N=2^16, Q=12", kind="1d", n=128, chunk=8,
         make=lambda nt: __import__("scattering_rs").Scattering1D(J=8, shape=2**16, Q=12, n_threads=nt),
         sample=(2**16,)),
    dict(name="2D J=3, 28x28, L=8", kind="2d", n=16384, chunk=1024,
         make=lambda nt: __import__("scattering_rs").Scattering2D(J=3, shape=(28, 28), L=8, n_threads=nt),
         sample=(28, 28)),
]


def best_rate(fn, n, repeats):
    """Signals per second of the fastest of `repeats` runs of fn() (after a warm-up)."""
    fn()
    best = min(_timed(fn) for _ in range(repeats))
    return n / best


def _timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def two_threads(S, x):
    half = len(x) // 2
    parts = [x[:half], x[half:]]
    threads = [threading.Thread(target=S, args=(p,)) for p in parts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default="docs/benchmarks.md")
    a = ap.parse_args()
    import dask
    import dask.array as da
    import distributed

    from scattering_rs.dask import scatter

    rows = []
    for cfg in CONFIGS:
        rng = np.random.default_rng(0)
        x = rng.standard_normal((cfg["n"],) + cfg["sample"])
        s_all, s_one = cfg["make"](None), cfg["make"](1)
        r = dict(cfg=cfg)
        r["all"] = best_rate(lambda: s_all(x), cfg["n"], a.repeats)
        r["one"] = best_rate(lambda: s_one(x), cfg["n"], a.repeats)
        r["two_threads"] = best_rate(lambda: two_threads(s_one, x), cfg["n"], a.repeats)
        dx = da.random.default_rng(0).standard_normal(
            (cfg["n"],) + cfg["sample"], chunks=(cfg["chunk"],) + cfg["sample"])
        for workers in (1, 2):
            with distributed.LocalCluster(n_workers=workers, threads_per_worker=1,
                                          processes=True, dashboard_address=None) as cl, \
                    distributed.Client(cl):
                xs = dx.persist()
                distributed.wait(xs)
                # Reduced on the workers, so the figure is the transform's, not the
                # transfer of every coefficient to the client.
                job = scatter(s_one, xs).sum(axis=tuple(range(1, 1 + len(s_one.output_shape))))
                r[f"dask{workers}"] = best_rate(lambda: job.compute(), cfg["n"], a.repeats)
        rows.append(r)
        print(cfg["name"], {k: round(v, 1) for k, v in r.items() if k != "cfg"}, flush=True)

    lines = [
        BEGIN,
        "## The Python package and Dask (`scripts/bench-dask`)",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores; dask {dask.__version__}, "
        f"distributed {distributed.__version__}. Signals (or images) per second, the best of "
        f"{a.repeats} runs after a warm-up, float64.",
        "In process: one call on the whole batch with all cores (`n_threads=None`) or one thread",
        "(`n_threads=1`), and the batch split between two Python threads each running one-thread",
        "calls (the GIL is released while Rust computes, so the two run at once). Dask:",
        "`LocalCluster(n_workers=k, threads_per_worker=1)`, transforms with `n_threads=1`,",
        "inputs generated and persisted on the workers, coefficients summed per signal on the",
        "workers (so the client transfer is not what is timed).",
        "",
        "| configuration | batch (chunk) | in process, all cores | 1 thread | 2 Python threads "
        "| GIL speed-up | Dask 1 worker | Dask 2 workers | 2 / 1 workers |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        c = r["cfg"]
        lines.append(
            f"| {c['name']} | {c['n']} ({c['chunk']}) | {r['all']:.1f} | {r['one']:.1f} "
            f"| {r['two_threads']:.1f} | {r['two_threads'] / r['one']:.2f}x "
            f"| {r['dask1']:.1f} | {r['dask2']:.1f} | {r['dask2'] / r['dask1']:.2f}x |")
    lines += ["", END]
    section = "\n".join(lines)
    old = open(a.out).read() if os.path.exists(a.out) else ""
    if BEGIN in old and END in old:
        new = old[: old.index(BEGIN)] + section + old[old.index(END) + len(END):]
    else:
        marker = "<!-- kept by scripts/bench-vs-kymatio -->"
        if marker not in old:
            old += "\n" + marker + "\n"
        i = old.index(marker) + len(marker)
        new = old[:i] + "\n" + section + "\n" + old[i:]
    with open(a.out + ".tmp", "w") as f:
        f.write(new)
    os.replace(a.out + ".tmp", a.out)
    print(section)


if __name__ == "__main__":
    main()
