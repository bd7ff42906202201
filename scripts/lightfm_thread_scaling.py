"""Python LightFM's own seconds per epoch at 1 and 2 threads, for the `training` suite's data.

    PYTHON scripts/lightfm_thread_scaling.py [--data ML100K] [--synthetic DIR] [--repetitions 5]

PYTHON is a Python with lightfm, numpy and scipy (e.g. /tmp/ref/bin/python; scripts/compare-peers
makes one). MovieLens 100K: ua.base, ratings >= 4, d = 30; the synthetic set: DIR/train.npz from
`lightfm-bench export-synthetic --out DIR` (--interactions 1250000 gives the suite's ~1M set),
d = 32. Per loss, a model per thread count is fitted for 1 epoch, then each repetition is
fit_partial of 1 epoch, t=1 and t=2 alternating so that both see the same load; medians.
"foreign" is the CPU used by other processes during the timed calls (in cores, from /proc/stat),
to tell a clean run from a contended one. Optional; never run in CI.
"""

import argparse
import os
import resource
import time

import numpy as np
import scipy.sparse as sp

from compare_peers import LOSSES, load_movielens


def busy_seconds():
    """(CPU seconds of the whole machine, CPU seconds of this process)."""
    fields = [float(x) for x in open("/proc/stat").readline().split()[1:]]
    own = resource.getrusage(resource.RUSAGE_SELF)
    machine = sum(fields[i] for i in (0, 1, 2, 5, 6, 7)) / os.sysconf("SC_CLK_TCK")
    return machine, own.ru_utime + own.ru_stime


def run(name, train, d, repetitions):
    from lightfm import LightFM

    for loss in LOSSES:
        models = {}
        for t in (1, 2):
            models[t] = LightFM(no_components=d, loss=loss, learning_rate=0.05, random_state=7)
            models[t].fit(train, epochs=1, num_threads=t)
        seconds = {1: [], 2: []}
        foreign = []
        for _ in range(repetitions):
            for t in (1, 2):
                m0, o0 = busy_seconds()
                start = time.perf_counter()
                models[t].fit_partial(train, epochs=1, num_threads=t)
                elapsed = time.perf_counter() - start
                m1, o1 = busy_seconds()
                seconds[t].append(elapsed)
                foreign.append(((m1 - m0) - (o1 - o0)) / elapsed)
        one, two = float(np.median(seconds[1])), float(np.median(seconds[2]))
        print(f"LightFM {name} {loss} d={d}: t=1 {one * 1e3:.1f} ms, t=2 {two * 1e3:.1f} ms, "
              f"{one / two:.2f}x; foreign CPU max {max(foreign):.2f}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/data/ml-100k")
    ap.add_argument("--synthetic")
    ap.add_argument("--repetitions", type=int, default=5)
    args = ap.parse_args()
    if os.path.exists(os.path.join(args.data, "ua.base")):
        run("MovieLens", load_movielens(args.data)[0], 30, args.repetitions)
    if args.synthetic:
        train = sp.load_npz(os.path.join(args.synthetic, "train.npz")).tocoo()
        run(f"synthetic {train.shape[0]}x{train.shape[1]} ({train.nnz} train)", train, 32,
            args.repetitions)


if __name__ == "__main__":
    main()
