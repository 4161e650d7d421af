#!/usr/bin/env python3
"""Time Kymatio (numpy backend) and scattering-rs on the same 1D configurations and write
docs/benchmarks.md. Each measurement runs in a fresh process so peak memory is its own.
Run through scripts/bench-vs-kymatio, which prepares the venv and the Rust binary."""
import argparse
import json
import os
import platform
import subprocess
import sys
import time

CONFIGS = [  # must match benches/lib.rs TIME_CONFIGS
    dict(name="J6_N8192_Q8_B64", J=6, N=2**13, Q=8, batch=64),
    dict(name="J8_N65536_Q12_B8", J=8, N=2**16, Q=12, batch=8),
]

IMAGE_CONFIGS = [  # must match benches/lib.rs IMAGE_CONFIGS
    dict(name="2D_J2_32x32_L8_B256", J=2, side=32, L=8, batch=256),
    dict(name="2D_J3_28x28_L8_B256", J=3, side=28, L=8, batch=256),
    dict(name="2D_J4_256x256_L8_B4", J=4, side=256, L=8, batch=4),
]
SOLID_CONFIG = dict(name="3D_J2_L2_64cube_B1", J=2, side=64, L=2, batch=1)

JOINT_CONFIGS = [  # must match benches/lib.rs JOINT_CONFIGS; spec_batch: the reference's batch
    dict(name="JTFS_J6_N16384_Q8-2_Jfr3_B16", J=6, N=2**14, Q=(8, 2), J_fr=3, Q_fr=2, batch=16,
         spec_batch=16),
    # At batch 4 the numpy reference needs more than this machine's 24 GiB (killed at 24 GB):
    # it is timed on one signal and compared per signal.
    dict(name="JTFS_J10_N65536_Q12-2_Jfr4_B4", J=10, N=2**16, Q=(12, 2), J_fr=4, Q_fr=1, batch=4,
         spec_batch=1),
]

# Kymatio main's TimeFrequencyScattering is not on the package registry (its releases stop
# at 0.3.0). The reference folder's jtfs_numpy_spec.py, a stand-alone numpy implementation
# that reproduces Kymatio main's outputs to 1.7e-15 with the same FFT-based algorithm on the
# same numpy backend, stands in for it.
SPEC_CHILD = r"""
import json, resource, sys, time
import numpy as np
cfg = json.loads(sys.argv[1]); repeats = int(sys.argv[2]); sys.path.insert(0, sys.argv[3])
from jtfs_numpy_spec import JTFS
t0 = time.perf_counter()
S = JTFS(J=cfg["J"], J_fr=cfg["J_fr"], Q=tuple(cfg["Q"]), shape=cfg["N"], Q_fr=cfg["Q_fr"])
build = time.perf_counter() - t0
x = np.random.default_rng(0).uniform(-1, 1, (cfg["spec_batch"], cfg["N"]))
times = []
for _ in range(repeats):
    t = time.perf_counter(); S(x); times.append(time.perf_counter() - t)
times.sort()
print(json.dumps(dict(name=cfg["name"], median_s=times[len(times) // 2], build_s=build,
      times_s=times, peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
      numpy=np.__version__)))
"""

KYMATIO_IMAGE_CHILD = r"""
import json, resource, sys, time, warnings
warnings.simplefilter("ignore")
import numpy as np
import kymatio
from kymatio.numpy import Scattering2D, HarmonicScattering3D
cfg = json.loads(sys.argv[1]); repeats = int(sys.argv[2]); dtype = np.dtype(sys.argv[3])
t0 = time.perf_counter()
if cfg["name"].startswith("3D"):
    S = HarmonicScattering3D(J=cfg["J"], shape=(cfg["side"],) * 3, L=cfg["L"])
    shape = (cfg["batch"],) + (cfg["side"],) * 3
else:
    S = Scattering2D(J=cfg["J"], shape=(cfg["side"], cfg["side"]), L=cfg["L"])
    shape = (cfg["batch"], cfg["side"], cfg["side"])
build = time.perf_counter() - t0
x = np.random.default_rng(0).uniform(-1, 1, shape).astype(dtype)
S(x)
times = []
for _ in range(repeats):
    t = time.perf_counter(); S(x); times.append(time.perf_counter() - t)
times.sort()
print(json.dumps(dict(name=cfg["name"], median_s=times[len(times) // 2], build_s=build,
      times_s=times, peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
      kymatio=kymatio.__version__, numpy=np.__version__)))
"""

KYMATIO_CHILD = r"""
import json, resource, sys, time, warnings
warnings.simplefilter("ignore")
import numpy as np
import kymatio
from kymatio.numpy import Scattering1D
cfg = json.loads(sys.argv[1]); repeats = int(sys.argv[2]); dtype = np.dtype(sys.argv[3])
t0 = time.perf_counter()
S = Scattering1D(J=cfg["J"], shape=cfg["N"], Q=cfg["Q"])
build = time.perf_counter() - t0
x = np.random.default_rng(0).uniform(-1, 1, (cfg["batch"], cfg["N"])).astype(dtype)
S(x)  # warm-up
times = []
for _ in range(repeats):
    t = time.perf_counter(); S(x); times.append(time.perf_counter() - t)
times.sort()
print(json.dumps(dict(name=cfg["name"], median_s=times[len(times) // 2], build_s=build,
      times_s=times, peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
      kymatio=kymatio.__version__, numpy=np.__version__)))
"""

OURS_PY_CHILD = r"""
import json, resource, sys, time
import numpy as np
import scattering_rs
from scattering_rs import HarmonicScattering3D, Scattering1D, Scattering2D
cfg = json.loads(sys.argv[1]); repeats = int(sys.argv[2]); dtype = np.dtype(sys.argv[3])
t0 = time.perf_counter()
name = cfg["name"]
if name.startswith("3D"):
    S = HarmonicScattering3D(J=cfg["J"], shape=(cfg["side"],) * 3, L=cfg["L"])
    shape = (cfg["batch"],) + (cfg["side"],) * 3
elif name.startswith("2D"):
    S = Scattering2D(J=cfg["J"], shape=(cfg["side"], cfg["side"]), L=cfg["L"])
    shape = (cfg["batch"], cfg["side"], cfg["side"])
else:
    S = Scattering1D(J=cfg["J"], shape=cfg["N"], Q=cfg["Q"])
    shape = (cfg["batch"], cfg["N"])
build = time.perf_counter() - t0
x = np.random.default_rng(0).uniform(-1, 1, shape).astype(dtype)
S(x)
times = []
for _ in range(repeats):
    t = time.perf_counter(); S(x); times.append(time.perf_counter() - t)
times.sort()
print(json.dumps(dict(name=name, median_s=times[len(times) // 2], build_s=build, times_s=times,
      peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))
"""


def run_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def cost(py, ours):
    """Time of the Python call over the Rust binary's, minus one, in percent."""
    return f"{100 * (py['median_s'] / ours['median_s'] - 1):+.1f}%"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


JTFS_BEGIN, JTFS_END = "<!-- jtfs: scripts/bench-vs-kymatio -->", "<!-- /jtfs -->"


def jtfs_section(a):
    """The joint time-frequency table, or a line saying why it is missing."""
    lines = [JTFS_BEGIN, "", "## Joint time-frequency scattering, forward pass", ""]
    spec = os.path.join(a.jtfs_spec or "", "jtfs_numpy_spec.py")
    if not a.jtfs_spec or not os.path.exists(spec):
        return lines + [
            "Not measured in this run: pass `--jtfs-spec DIR` (the folder of the Kymatio JTFS "
            "reference, with `jtfs_numpy_spec.py`).", "", JTFS_END]
    lines += [
        "Kymatio main's `TimeFrequencyScattering` is not on the package registry; the reference's",
        "stand-alone numpy implementation (`jtfs_numpy_spec.py`, equal to Kymatio main to 1.7e-15,",
        "same algorithm on the same numpy backend) stands in for it, timed once per configuration",
        "(a run takes minutes). Throughput is signals per second; both outputs are float64.",
        "",
        "| configuration | reference batch | reference (s) | reference signals/s | ours batch "
        "| ours f64 (s) | signals/s | speed-up | ours f32 (s) | speed-up "
        "| peak MiB reference / f64 / f32 |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for cfg in JOINT_CONFIGS:
        print(f"{cfg['name']}: numpy reference ...", file=sys.stderr)
        k = run_json([sys.executable, "-c", SPEC_CHILD, json.dumps(cfg), "1", a.jtfs_spec])
        print(f"{cfg['name']}: scattering-rs ...", file=sys.stderr)
        reps = str(max(1, min(a.repeats, 3)))
        r64 = run_json([a.ours, cfg["name"], reps, "f64"])
        r32 = run_json([a.ours, cfg["name"], reps, "f32"])
        kt = cfg["spec_batch"] / k["median_s"]
        t64, t32 = cfg["batch"] / r64["median_s"], cfg["batch"] / r32["median_s"]
        lines.append(
            f"| J={cfg['J']}, N=2^{cfg['N'].bit_length() - 1}, Q={tuple(cfg['Q'])}, "
            f"J_fr={cfg['J_fr']}, Q_fr={cfg['Q_fr']} | {cfg['spec_batch']} | {k['median_s']:.1f} "
            f"| {kt:.3f} | {cfg['batch']} | {r64['median_s']:.2f} | {t64:.3f} | {t64 / kt:.1f}x "
            f"| {r32['median_s']:.2f} | {t32 / kt:.1f}x "
            f"| {k['peak_rss_mib']:.0f} / {r64['peak_rss_mib']:.0f} / {r32['peak_rss_mib']:.0f} |"
        )
    lines += [
        "",
        "The reference computes on one core; ours on both (batch over threads). Peak memory is",
        "the process's resident high-water mark; the reference's grows with its batch.",
        "",
        JTFS_END,
    ]
    return lines


def replace_jtfs(out, section):
    """Writes `section` in place of the JTFS section of `out` (or appends it)."""
    old = open(out).read() if os.path.exists(out) else ""
    text = "\n".join(section)
    if JTFS_BEGIN in old and JTFS_END in old:
        new = old[:old.index(JTFS_BEGIN)] + text + old[old.index(JTFS_END) + len(JTFS_END):]
    else:
        new = old.rstrip("\n") + "\n\n" + text + "\n"
    with open(out + ".tmp", "w") as f:
        f.write(new)
    os.replace(out + ".tmp", out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--ours", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--jtfs-spec", help="folder of the Kymatio JTFS reference (jtfs_numpy_spec.py)")
    ap.add_argument("--only-jtfs", action="store_true",
                    help="time joint scattering only and rewrite only its section of --out")
    a = ap.parse_args()
    if a.only_jtfs:
        section = jtfs_section(a)
        replace_jtfs(a.out, section)
        print("\n".join(section))
        return
    rows = []
    for cfg in CONFIGS:
        print(f"{cfg['name']}: kymatio ...", file=sys.stderr)
        k = run_json([sys.executable, "-c", KYMATIO_CHILD, json.dumps(cfg), str(a.repeats), "float64"])
        k32 = run_json([sys.executable, "-c", KYMATIO_CHILD, json.dumps(cfg), str(a.repeats), "float32"])
        print(f"{cfg['name']}: scattering-rs ...", file=sys.stderr)
        r64 = run_json([a.ours, cfg["name"], str(a.repeats), "f64"])
        r32 = run_json([a.ours, cfg["name"], str(a.repeats), "f32"])
        one = subprocess.run([a.ours, cfg["name"], str(a.repeats), "f64"], check=True,
                             capture_output=True, text=True,
                             env=dict(os.environ, RAYON_NUM_THREADS="1")).stdout
        r1 = json.loads(one.strip().splitlines()[-1])
        print(f"{cfg['name']}: scattering_rs from Python ...", file=sys.stderr)
        py = run_json([sys.executable, "-c", OURS_PY_CHILD, json.dumps(cfg), str(a.repeats), "float64"])
        rows.append((cfg, k, k32, r64, r32, r1, py))
    lines = [
        "# Benchmarks",
        "",
        "Regenerate with `scripts/bench-vs-kymatio` (installs Kymatio into a git-ignored venv, builds",
        "`bench-time` in release mode, times both in one run; each figure is the median of "
        f"{a.repeats} runs after a warm-up,",
        "each configuration in a fresh process so that peak resident memory is its own).",
        "",
        f"Machine: {os.cpu_count()} cores, {cpu_model()}; "
        f"Kymatio {rows[0][1]['kymatio']} (numpy {rows[0][1]['numpy']} backend); "
        f"measured {time.strftime('%Y-%m-%d')}.",
        "",
        "Each speed-up compares like with like: ours f64 against Kymatio on float64 input, ours",
        "f32 against Kymatio on float32 input.",
        "",
        "## 1D time scattering, forward pass (Q2 = 1, T = 2^J, order 2)",
        "",
        "| configuration | Kymatio f64 (s) | ours f64 (s) | speed-up | Kymatio f32 (s) | ours f32 (s) "
        "| speed-up | ours f64, 1 thread (s) | speed-up | peak MiB Kymatio / f64 / f32 "
        "| ours f64 from Python (s) | binding cost |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for cfg, k, k32, r64, r32, r1, py in rows:
        km, km32 = k["median_s"], k32["median_s"]
        lines.append(
            f"| J={cfg['J']}, N=2^{cfg['N'].bit_length() - 1}, Q={cfg['Q']}, batch {cfg['batch']} "
            f"| {km:.3f} | {r64['median_s']:.4f} | {km / r64['median_s']:.1f}x "
            f"| {km32:.3f} | {r32['median_s']:.4f} | {km32 / r32['median_s']:.1f}x "
            f"| {r1['median_s']:.4f} | {km / r1['median_s']:.1f}x "
            f"| {k['peak_rss_mib']:.0f} / {r64['peak_rss_mib']:.0f} / {r32['peak_rss_mib']:.0f} "
            f"| {py['median_s']:.4f} | {cost(py, r64)} |"
        )
    lines += [
        "",
        "## 2D image and 3D solid harmonic scattering, forward pass",
        "",
        "| configuration | Kymatio f64 (s) | ours f64 (s) | speed-up | Kymatio f32 (s) | ours f32 (s) "
        "| speed-up | peak MiB Kymatio / f64 / f32 | build Kymatio / ours (s) "
        "| ours f64 from Python (s) | binding cost |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    best = []
    for cfg in IMAGE_CONFIGS + [SOLID_CONFIG]:
        print(f"{cfg['name']}: kymatio ...", file=sys.stderr)
        reps = max(3, a.repeats // 2) if cfg["name"].startswith("3D") else a.repeats
        k = run_json([sys.executable, "-c", KYMATIO_IMAGE_CHILD, json.dumps(cfg), str(reps), "float64"])
        k32 = run_json([sys.executable, "-c", KYMATIO_IMAGE_CHILD, json.dumps(cfg), str(reps), "float32"])
        print(f"{cfg['name']}: scattering-rs ...", file=sys.stderr)
        r64 = run_json([a.ours, cfg["name"], str(a.repeats), "f64"])
        r32 = run_json([a.ours, cfg["name"], str(a.repeats), "f32"])
        print(f"{cfg['name']}: scattering_rs from Python ...", file=sys.stderr)
        py = run_json([sys.executable, "-c", OURS_PY_CHILD, json.dumps(cfg), str(a.repeats), "float64"])
        km, km32 = k["median_s"], k32["median_s"]
        lines.append(
            f"| {cfg['name']} | {km:.3f} | {r64['median_s']:.4f} | {km / r64['median_s']:.1f}x "
            f"| {km32:.3f} | {r32['median_s']:.4f} | {km32 / r32['median_s']:.1f}x "
            f"| {k['peak_rss_mib']:.0f} / {r64['peak_rss_mib']:.0f} / {r32['peak_rss_mib']:.0f} "
            f"| {k['build_s']:.2f} / {r64['build_s']:.2f} "
            f"| {py['median_s']:.4f} | {cost(py, r64)} |"
        )
        kb, kb32, rb, rb32 = (min(d["times_s"]) for d in (k, k32, r64, r32))
        best.append(
            f"| {cfg['name']} | {kb:.3f} | {rb:.4f} | {kb / rb:.1f}x "
            f"| {kb32:.3f} | {rb32:.4f} | {kb32 / rb32:.1f}x |"
        )
    lines += [
        "",
        "The same runs, fastest of each (less sensitive to other load on a shared machine):",
        "",
        "| configuration | Kymatio f64 (s) | ours f64 (s) | speed-up | Kymatio f32 (s) | ours f32 (s) "
        "| speed-up |",
        "|---|---|---|---|---|---|---|",
    ] + best
    lines += [
        "",
        "Filter-bank construction (once per transform object):",
        "",
        "| configuration | Kymatio (s) | ours (s) |",
        "|---|---|---|",
    ]
    for cfg, k, _, r64, _, _, _ in rows:
        lines.append(f"| {cfg['name']} | {k['build_s']:.3f} | {r64['build_s']:.3f} |")
    lines += [
        "",
        "The Python column calls the `scattering_rs` package (`pip install ./crates/python`) from",
        "Python on the same float64 batch; its binding cost is its median over the Rust binary's",
        "median, minus one (the arrays cross without a copy; the output is allocated once).",
        "",
        "Kymatio's numpy backend computes on one core (numpy's FFT is single-threaded); ours spreads",
        "the batch over both cores with rayon, so the 1-thread column is the per-core comparison.",
        "`f64` computes in double precision and agrees with Kymatio to 1e-14; `f32` computes in",
        "single precision (relative error ~2e-7 against Kymatio's float64 output, see",
        "`crates/transform/tests/kymatio_time.rs`). Peak memory is the resident high-water mark of",
        "the whole process (filters, FFT plans, input and output batches).",
        "",
        "Criterion benchmarks of the same configurations (forward, backward, build):",
        "`cargo bench -p scattering-benches`.",
        "",
    ]
    # Hand-written sections after this marker survive regeneration.
    marker = "<!-- kept by scripts/bench-vs-kymatio -->"
    kept = ""
    if os.path.exists(a.out):
        with open(a.out) as f:
            old = f.read()
        if marker in old:
            kept = old[old.index(marker):]
            # The JTFS section is regenerated above; a copy left in the kept part goes.
            if JTFS_BEGIN in kept and JTFS_END in kept:
                kept = kept[:kept.index(JTFS_BEGIN)] + kept[kept.index(JTFS_END) + len(JTFS_END):]
    lines += [""] + jtfs_section(a) + [""]
    with open(a.out + ".tmp", "w") as f:
        f.write("\n".join(lines))
        if kept:
            f.write("\n" + kept)
    os.replace(a.out + ".tmp", a.out)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
