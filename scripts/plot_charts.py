"""Learning curves and benchmark charts for scripts/plot (run it through that wrapper)."""

import argparse
import csv
import json
import os
import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402

METRICS = [
    ("precision_at_k", "precision@{k}"),
    ("recall_at_k", "recall@{k}"),
    ("ndcg_at_k", "NDCG@{k}"),
    ("auc", "AUC"),
]


def note(text):
    print(f"plot: {text}", file=sys.stderr)


def save(fig, out, dpi):
    """Lays the figure out, writes it as a PNG and says so."""
    fig.tight_layout()
    fig.savefig(out, dpi=dpi)
    note(f"wrote {out}")


# MARK: - History files


def read_history(path):
    """Rows of a `lightfm fit --history` file as dicts of floats (None when empty or null)."""
    rows = []
    with open(path, encoding="utf-8") as f:
        if path.lower().endswith(".jsonl"):
            records = [json.loads(line) for line in f if line.strip()]
        else:
            records = list(csv.DictReader(f))
    for r in records:
        row = {}
        for key, value in r.items():
            if value is None or value == "":
                row[key] = None
            else:
                row[key] = float(value)
        rows.append(row)
    return rows


def plot_history(args):
    labels = args.label or []
    runs = []
    for n, path in enumerate(args.files):
        label = labels[n] if n < len(labels) else os.path.splitext(os.path.basename(path))[0]
        rows = read_history(path)
        if not rows:
            note(f"{path}: no rows, skipped")
            continue
        runs.append((label, rows))
    if not runs:
        sys.exit("plot: no history rows to draw")

    fig, axes = plt.subplots(2, 3, figsize=(10.5, 6))
    panels = [("loss", "training loss (each model's own)")]
    k = next((int(r["k"]) for _, rows in runs for r in rows if r.get("k")), None)
    panels += [(key, title.format(k=k if k else "k")) for key, title in METRICS]
    for ax, (key, title) in zip(axes.flat, panels):
        drawn = False
        for label, rows in runs:
            points = [(r["epoch"], r[key]) for r in rows if r.get(key) is not None]
            if points:
                xs, ys = zip(*points)
                ax.plot(xs, ys, marker="o", markersize=3, label=label)
                drawn = True
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("epoch", fontsize=9)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
        if not drawn:
            ax.text(0.5, 0.5, "not in the history", ha="center", va="center",
                    transform=ax.transAxes, fontsize=9, color="gray")
        elif key == "loss" and len(runs) > 1:
            # Different losses differ in scale: a log axis keeps each one's fall visible.
            ax.set_yscale("log")
            ax.yaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
            ax.yaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
            ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    legend_ax = axes.flat[5]
    legend_ax.axis("off")
    handles, names = axes.flat[0].get_legend_handles_labels()
    if not handles:
        handles, names = axes.flat[1].get_legend_handles_labels()
    legend_ax.legend(handles, names, loc="center", fontsize=10, frameon=False)
    if args.title:
        fig.suptitle(args.title, fontsize=11)
    save(fig, args.out, args.dpi)


# MARK: - Bench JSON


def read_bench(paths):
    """Every measurement of the given `lightfm-bench --json` files, with its file's name."""
    rows = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        for m in doc.get("measurements", []):
            m["file"] = os.path.basename(path)
            m["rates_by_unit"] = {r["unit"]: r["value"] for r in m.get("rates", [])}
            rows.append(m)
    return rows


def kernels_chart(rows, out, dpi):
    pattern = re.compile(r"^(dot|axpy) d=(\d+) (simd|blas)$")
    series = {}
    for m in rows:
        match = m["suite"] == "kernels" and pattern.match(m["name"])
        if match and "GFLOP/s" in m["rates_by_unit"]:
            op, d, engine = match.group(1), int(match.group(2)), match.group(3)
            series.setdefault((op, engine), []).append((d, m["rates_by_unit"]["GFLOP/s"]))
    if not series:
        note("no kernels rows (dot/axpy d=… simd|blas): kernels.png skipped")
        return
    fig, ax = plt.subplots(figsize=(6.4, 4))
    styles = {"simd": "-", "blas": "--"}
    for (op, engine), points in sorted(series.items()):
        points.sort()
        xs, ys = zip(*points)
        label = f"{op} {'ours (SIMD)' if engine == 'simd' else 'BLAS'}"
        ax.plot(xs, ys, styles[engine], marker="o", markersize=4, label=label)
    ax.set_xscale("log", base=2)
    ax.set_xticks(sorted({d for pts in series.values() for d, _ in pts}))
    ax.get_xaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
    ax.set_xlabel("d (floats per row)")
    ax.set_ylabel("GFLOP/s, 1 thread")
    ax.set_title("Training-size vector kernels: our SIMD vs BLAS", fontsize=11)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9)
    save(fig, out, dpi)


TRAINING = re.compile(
    r"^(?P<set>.+?) (?P<loss>logistic|bpr|warp-kos|warp) d=(?P<d>\d+) t=(?P<t>\d+) per epoch"
    r"(?P<on> loss on)?$")


LIGHTFM = re.compile(
    r"^LightFM (?P<set>.+?) (?P<loss>logistic|bpr|warp-kos|warp) d=\d+: "
    r"t=1 (?P<one>[\d.]+) ms, t=2 (?P<two>[\d.]+) ms")


def data_set(name):
    """One key for a data set, whichever tool named it: MovieLens, or synthetic U×I (N train)."""
    match = re.match(r"synthetic (\d+)[x×](\d+)(?: \S+)? \((\d+) train\)", name)
    return f"synthetic {match.group(1)}×{match.group(2)} ({match.group(3)} train)" if match \
        else name


def read_lightfm(path):
    """Seconds per epoch from scripts/lightfm_thread_scaling.py's output lines."""
    cases = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            match = LIGHTFM.match(line.strip())
            if match:
                per_loss = cases.setdefault(data_set(match.group("set")), {})
                per_loss.setdefault(match.group("loss"), {}).update({
                    ("LightFM", 1): float(match.group("one")) / 1e3,
                    ("LightFM", 2): float(match.group("two")) / 1e3,
                })
    return cases


def training_chart(rows, out, dpi, lightfm=None):
    cases = {}
    for m in rows:
        match = m["suite"] == "training" and TRAINING.match(m["name"])
        if match:
            key = (int(match.group("t")), bool(match.group("on")))
            per_loss = cases.setdefault(data_set(match.group("set")), {})
            per_loss.setdefault(match.group("loss"), {})[key] = m["median"]
    if not cases:
        note("no training rows (… per epoch): training.png skipped")
        return
    theirs = read_lightfm(lightfm) if lightfm else {}
    for data, per_loss in cases.items():
        for loss, times in theirs.get(data, {}).items():
            per_loss.setdefault(loss, {}).update(times)
    if lightfm and not any(data in theirs for data in cases):
        note(f"{lightfm}: no LightFM times for the bench's data sets")
    losses = ["logistic", "bpr", "warp", "warp-kos"]
    bars = [((1, False), "ours, 1 thread", "#1f77b4"),
            ((1, True), "ours, 1 thread, loss on", "#9ecae1"),
            ((2, False), "ours, 2 threads", "#ff7f0e"),
            ((2, True), "ours, 2 threads, loss on", "#fdd0a2"),
            (("LightFM", 1), "LightFM, 1 thread", "#6a6a6a"),
            (("LightFM", 2), "LightFM, 2 threads", "#bdbdbd")]
    bars = [b for b in bars
            if any(b[0] in times for per_loss in cases.values() for times in per_loss.values())]
    fig, axes = plt.subplots(1, len(cases), figsize=(5.6 * len(cases), 4.2), squeeze=False)
    for ax, (data, per_loss) in zip(axes[0], cases.items()):
        present = [loss for loss in losses if loss in per_loss]
        width = 0.8 / len(bars)
        for n, (key, label, color) in enumerate(bars):
            xs = [i + (n - (len(bars) - 1) / 2) * width for i in range(len(present))]
            ys = [per_loss[loss].get(key, 0) * 1e3 for loss in present]
            ax.bar(xs, ys, width, label=label, color=color)
        ax.set_xticks(range(len(present)))
        ax.set_xticklabels(present)
        ax.set_ylabel("ms per epoch (median)")
        ax.set_title(data, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.suptitle("Training: seconds per epoch, 1 and 2 threads", fontsize=11)
    save(fig, out, dpi)


SCORING = re.compile(
    r"^(?P<what>recommend top-10 blas|recommend top-10 scalar|bare sgemm) "
    r"(?P<users>\d+)×(?P<items>\d+) d=(?P<d>\d+) t=(?P<t>\d+)(?: \((?P<subset>\d+) users\))?$")


def scoring_chart(rows, out, dpi):
    series = {}
    for m in rows:
        match = m["suite"] == "scoring" and SCORING.match(m["name"])
        if not match:
            continue
        users, items = int(match.group("users")), int(match.group("items"))
        pairs = users * items
        seconds = m["median"]
        if match.group("subset"):
            # The scalar engine scored a subset of the users: scale to the whole catalog.
            seconds *= users / int(match.group("subset"))
        label = {"recommend top-10 blas": "recommend, BLAS engine",
                 "recommend top-10 scalar": "recommend, scalar engine (subsets scaled up)",
                 "bare sgemm": "bare blocked sgemm"}[match.group("what")]
        series.setdefault(label, set()).add((pairs, seconds, f"{users}×{items}"))
    if not series:
        note("no scoring rows (recommend top-10 … / bare sgemm): scoring.png skipped")
        return
    sizes = {p for pts in series.values() for p, _, _ in pts}
    if len(sizes) == 1:
        note("scoring rows of one size only: scoring.png has one point per line "
             "(give bench files of other --users/--items for a curve)")
    fig, ax = plt.subplots(figsize=(6.4, 4))
    for label, points in sorted(series.items()):
        points = sorted(points)
        ax.plot([p for p, _, _ in points], [s for _, s, _ in points], marker="o",
                markersize=4, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    shapes = sorted({(p, shape) for pts in series.values() for p, _, shape in pts})
    ax.set_xticks([p for p, _ in shapes])
    ax.set_xticklabels([shape for _, shape in shapes], fontsize=8)
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.set_xlabel("users × items (whole catalog, every user)")
    ax.set_ylabel("seconds (median)")
    ax.set_title("Whole-catalog top-10 as the catalog grows", fontsize=11)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=9)
    save(fig, out, dpi)


def plot_bench(args):
    rows = read_bench(args.files)
    os.makedirs(args.out_dir, exist_ok=True)
    kernels_chart(rows, os.path.join(args.out_dir, "kernels.png"), args.dpi)
    training_chart(rows, os.path.join(args.out_dir, "training.png"), args.dpi, args.lightfm)
    scoring_chart(rows, os.path.join(args.out_dir, "scoring.png"), args.dpi)


def main():
    parser = argparse.ArgumentParser(prog="scripts/plot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    history = sub.add_parser("history", help="learning curves from fit --history files")
    history.add_argument("files", nargs="+")
    history.add_argument("--label", action="append", help="one per file, in order")
    history.add_argument("--title")
    history.add_argument("--out", required=True, help="the PNG to write")
    history.add_argument("--dpi", type=int, default=72)
    bench = sub.add_parser("bench", help="charts from lightfm-bench --json files")
    bench.add_argument("files", nargs="+")
    bench.add_argument("--out-dir", required=True)
    bench.add_argument("--lightfm", help="output of scripts/lightfm_thread_scaling.py, for "
                       "LightFM's seconds per epoch beside ours")
    bench.add_argument("--dpi", type=int, default=72)
    args = parser.parse_args()
    if args.command == "history":
        plot_history(args)
    else:
        plot_bench(args)


if __name__ == "__main__":
    main()
