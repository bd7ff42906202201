"""Loading speed: swift-lightfm's readers next to pandas and scipy on the same files.

Run through scripts/compare-loading. Each round runs, one after the other and each in its own
process (so every peak RSS is the case's own): `lightfm-bench run loading` (its own median of 5),
pandas.read_csv (C engine) + factorize + COO, and scipy.sparse.load_npz; the table shows the
median over rounds and the ratios, which is what the targets are stated in.

    python scripts/compare_loading.py --bench .build/release/lightfm-bench --lines 10000000
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time


def read_coo(tsv):
    """The file's ratings as a COO matrix, user and item ids factorized (pandas' C reader)."""
    import numpy as np
    import pandas as pd
    import scipy.sparse as sp
    df = pd.read_csv(tsv, sep="\t", header=None, engine="c",
                     names=["user", "item", "rating", "timestamp"])
    users, user_ids = pd.factorize(df["user"])
    items, item_ids = pd.factorize(df["item"])
    return sp.coo_matrix((df["rating"].to_numpy(np.float32), (users, items)),
                         shape=(len(user_ids), len(item_ids)))


def pandas_case(tsv, repetitions):
    return timed(lambda: read_coo(tsv), repetitions)


def scipy_case(npz, repetitions):
    import scipy.sparse as sp
    return timed(lambda: sp.load_npz(npz), repetitions)


def timed(body, repetitions):
    body()
    seconds = []
    for _ in range(repetitions):
        start = time.perf_counter()
        body()
        seconds.append(time.perf_counter() - start)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {"median": statistics.median(seconds), "peakRSSMiB": rss}


def write_npz(tsv, npz):
    """scipy's default save_npz (compressed) of the file's COO, ids factorized."""
    import scipy.sparse as sp
    sp.save_npz(npz, read_coo(tsv))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bench", default=".build/release/lightfm-bench")
    p.add_argument("--dir", default=".peers/loading")
    p.add_argument("--lines", type=int, default=10_000_000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--npz-lines", type=int, default=200_000,
                   help="largest file whose .npz swift-lightfm reads (see lightfm-bench)")
    p.add_argument("--repetitions", type=int, default=3, help="per python case and round")
    p.add_argument("--case", choices=["pandas", "scipy"], help=argparse.SUPPRESS)
    p.add_argument("--json")
    a = p.parse_args()
    tsv = os.path.join(a.dir, f"interactions-{a.lines}.tsv")
    npz = os.path.join(a.dir, f"interactions-{a.lines}.npz")
    if a.case == "pandas":
        print(json.dumps(pandas_case(tsv, a.repetitions)))
        return
    if a.case == "scipy":
        print(json.dumps(scipy_case(npz, a.repetitions)))
        return

    bench = [a.bench, "run", "loading", "--lines", str(a.lines), "--loading-dir", a.dir,
             "--npz-lines", str(a.npz_lines)]
    if not os.path.exists(tsv):
        subprocess.run(bench + ["--repetitions", "5"], check=True, stdout=subprocess.DEVNULL)
    if not os.path.exists(npz):
        write_npz(tsv, npz)
    results = {}

    def add(name, median, rss):
        r = results.setdefault(name, {"medians": [], "rss": 0})
        r["medians"].append(median)
        r["rss"] = max(r["rss"], rss)

    for n in range(a.rounds):
        print(f"compare-loading: round {n + 1} of {a.rounds}", file=sys.stderr)
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            subprocess.run(bench + ["--json", out.name], check=True, stdout=subprocess.DEVNULL)
            doc = json.load(open(out.name))
        for m in doc["measurements"]:
            add("swift-lightfm " + m["name"], m["median"], m["peakRSSMiB"])
        for case, label in [("pandas", "pandas read_csv (C) + factorize + COO"),
                            ("scipy", "scipy load_npz")]:
            r = subprocess.run([sys.executable, __file__, "--case", case, "--dir", a.dir,
                                "--lines", str(a.lines), "--repetitions", str(a.repetitions)],
                               check=True, capture_output=True, text=True)
            m = json.loads(r.stdout)
            add(label, m["median"], m["peakRSSMiB"])

    load = os.getloadavg()
    print(f"# {a.lines} lines, {os.path.getsize(tsv) / 1e6:.1f} MB text, "
          f"{os.path.getsize(npz) / 1e6:.1f} MB npz; {a.rounds} rounds; "
          f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores")
    print(f"{'case':<75} {'median s':>9} {'lines/s':>10} {'peak RSS':>9}")
    med = {k: statistics.median(v["medians"]) for k, v in results.items()}
    for k, v in results.items():
        print(f"{k:<75} {med[k]:9.3f} {a.lines / med[k] / 1e6:9.2f}M "
              f"{v['rss']:6.0f} MiB")
    ours_text = next((v for k, v in med.items() if "text stream" in k), None)
    ours_npz = next((v for k, v in med.items() if "npz" in k and "swift" in k), None)
    pandas = med["pandas read_csv (C) + factorize + COO"]
    scipy = med["scipy load_npz"]
    if ours_text:
        print(f"text: swift-lightfm / pandas = {ours_text / pandas:.2f} (target <= 1)")
    if ours_npz:
        print(f"npz:  swift-lightfm / scipy  = {ours_npz / scipy:.2f} (target <= 2)")
    if a.json:
        json.dump({"lines": a.lines, "results": results, "medians": med}, open(a.json, "w"),
                  indent=2)


if __name__ == "__main__":
    main()
