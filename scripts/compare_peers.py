"""The Python half of scripts/compare-peers: LightFM and implicit on the same data and protocol
as `lightfm-bench peers`, then one table of ratios against our JSON.

Protocol, per data set (MovieLens 100K: ua.base / ua.test, ratings >= 4 positive, d = 30; the
synthetic set from train.npz / test.npz, d = 32) and per loss: one fit of E epochs on T threads
(lr 0.05, fixed seed), then precision@10 and AUC on the test set with training items excluded
(synthetic: users u with u % stride == 0 only, the same users as ours). Top-10 over the whole
catalog with training items excluded, on the WARP model:
  - LightFM: predict(user, all items) per user (1 thread per call) + argpartition, timed on a
    sample of users and extrapolated to all users (said so in the table);
  - implicit: recommend (CPU model) for all users on LightFM's own factors, with the
    item bias folded into an extra column ([p_u, 1] . [q_i, b_i]).
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import scipy.sparse as sp

LOSSES = ["logistic", "bpr", "warp", "warp-kos"]


def load_movielens(folder):
    def positives(name):
        raw = np.loadtxt(os.path.join(folder, name), dtype=np.int64)
        raw = raw[raw[:, 2] >= 4]
        return sp.coo_matrix(
            (np.ones(len(raw), dtype=np.float32), (raw[:, 0] - 1, raw[:, 1] - 1)),
            shape=(943, 1682),
        )

    return positives("ua.base"), positives("ua.test")


def sample_rows(m, stride):
    m = m.tocoo()
    keep = m.row % stride == 0
    return sp.coo_matrix(
        (np.ones(keep.sum(), dtype=np.float32), (m.row[keep], m.col[keep])), shape=m.shape
    ).tocsr()


def lightfm_top10(model, train_csr, users):
    """Seconds per user of predict over the whole catalog + partial sort, and the lists.

    predict runs on 1 thread: with num_threads=2, one call per user spent ~30 ms in OpenMP
    start-up on the 2-core machine this was written on (1.2 ms with 1 thread, 5K items).
    """
    n_items = train_csr.shape[1]
    item_ids = np.arange(n_items, dtype=np.int32)
    lists = {}
    start = time.perf_counter()
    for u in users:
        scores = model.predict(np.full(n_items, u, dtype=np.int32), item_ids, num_threads=1)
        liked = train_csr.indices[train_csr.indptr[u] : train_csr.indptr[u + 1]]
        scores[liked] = -np.inf
        top = np.argpartition(-scores, 10)[:10]
        lists[u] = top[np.argsort(-scores[top], kind="stable")]
    return (time.perf_counter() - start) / len(users), lists


def implicit_top10(model, train_csr, threads, repetitions):
    from implicit.cpu.als import AlternatingLeastSquares

    ub, ue = model.get_user_representations()
    ib, ie = model.get_item_representations()
    # Any CPU factorisation model serves: recommend only reads the two factor matrices.
    mf = AlternatingLeastSquares(factors=ue.shape[1] + 1, num_threads=threads)
    mf.user_factors = np.ascontiguousarray(
        np.hstack([ue, np.ones((ue.shape[0], 1))]), dtype=np.float32
    )
    mf.item_factors = np.ascontiguousarray(np.hstack([ie, ib[:, None]]), dtype=np.float32)
    users = np.arange(train_csr.shape[0])
    times = []
    ids = None
    for _ in range(repetitions):
        start = time.perf_counter()
        ids, _ = mf.recommend(users, train_csr, N=10, filter_already_liked_items=True)
        times.append(time.perf_counter() - start)
    return float(np.median(times)), ids


def run(name, train, test, d, epochs, stride, threads, seed, sample_users, repetitions):
    from lightfm import LightFM
    from lightfm.evaluation import auc_score, precision_at_k

    train = train.tocoo()
    train_csr = train.tocsr()
    test_s = sample_rows(test, stride)
    out = {"losses": {}, "epochs": epochs, "threads": threads}
    warp = None
    for loss in LOSSES:
        model = LightFM(no_components=d, loss=loss, learning_rate=0.05, random_state=seed)
        start = time.perf_counter()
        model.fit(train, epochs=epochs, num_threads=threads)
        fit = (time.perf_counter() - start) / epochs
        p = float(
            precision_at_k(
                model, test_s, train_interactions=train_csr, k=10, num_threads=threads
            ).mean()
        )
        auc = float(
            auc_score(model, test_s, train_interactions=train_csr, num_threads=threads).mean()
        )
        out["losses"][loss] = {"fitSecondsPerEpoch": fit, "precisionAt10": p, "auc": auc}
        print(f"LightFM {name} {loss}: {fit:.3f} s/epoch, p@10 {p:.4f}, AUC {auc:.4f}",
              file=sys.stderr)
        if loss == "warp":
            warp = model
    n_users = train_csr.shape[0]
    step = max(1, n_users // sample_users)
    users = list(range(0, n_users, step))
    per_user, lists = lightfm_top10(warp, train_csr, users)
    out["lightfmTop10Seconds"] = per_user * n_users
    out["lightfmTop10SampledUsers"] = len(users)
    imp_seconds, imp_ids = implicit_top10(warp, train_csr, threads, repetitions)
    out["implicitTop10Seconds"] = imp_seconds
    same = sum(set(lists[u].tolist()) == set(imp_ids[u].tolist()) for u in users)
    out["top10Agreement"] = same / len(users)
    print(f"{name}: LightFM top-10 {per_user * 1e3:.2f} ms/user over {len(users)} users; "
          f"implicit {imp_seconds:.2f} s; same top-10 sets on {same}/{len(users)} users",
          file=sys.stderr)
    return out


def ratio(a, b):
    return a / b if a and b else float("nan")


def table(ours, theirs):
    rows = [("measure", "data", "loss", "ours", "LightFM", "LightFM/ours", "implicit",
             "implicit/ours")]
    for ds in ["movielens", "synthetic"]:
        if ds not in ours or ds not in theirs:
            continue
        o, t = ours[ds], theirs[ds]
        label = "MovieLens 100K" if ds == "movielens" else (
            f"synthetic {o['users']}x{o['items']}")
        for loss in LOSSES:
            a = o["losses"][loss]["fitSecondsPerEpoch"]
            b = t["losses"][loss]["fitSecondsPerEpoch"]
            rows.append((f"fit s/epoch (t={o['threads']})", label, loss, f"{a:.3f}", f"{b:.3f}",
                         f"{ratio(b, a):.2f}x", "", ""))
        a = o["top10Seconds"]
        b = t["lightfmTop10Seconds"]
        c = t["implicitTop10Seconds"]
        rows.append((f"top-10 all {o['top10Users']} users, s", label, "warp", f"{a:.2f}",
                     f"{b:.2f} (extrap. from {t['lightfmTop10SampledUsers']} users, 1 thread)",
                     f"{ratio(b, a):.1f}x", f"{c:.2f}", f"{ratio(c, a):.1f}x"))
        for metric, key in [("precision@10", "precisionAt10"), ("AUC", "auc")]:
            for loss in LOSSES:
                a = o["losses"][loss][key]
                b = t["losses"][loss][key]
                rows.append((f"{metric} ({o['evaluatedUsers']} users)", label, loss, f"{a:.4f}",
                             f"{b:.4f}", f"{ratio(a, b):.3f}", "", ""))
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    lines = []
    for n, r in enumerate(rows):
        lines.append("| " + " | ".join(cell.ljust(widths[c]) for c, cell in enumerate(r)) + " |")
        if n == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--synthetic", required=True)
    ap.add_argument("--ours", required=True)
    ap.add_argument("--json", required=True)
    ap.add_argument("--eval-stride", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--movielens-epochs", type=int, default=10)
    ap.add_argument("--synthetic-epochs", type=int, default=2)
    ap.add_argument("--sample-users", type=int, default=2000)
    ap.add_argument("--repetitions", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    with open(args.ours) as f:
        ours = json.load(f)
    theirs = {}
    if os.path.exists(os.path.join(args.data, "ua.base")):
        train, test = load_movielens(args.data)
        theirs["movielens"] = run("MovieLens", train, test, 30, args.movielens_epochs, 1,
                                  args.threads, args.seed, args.sample_users, args.repetitions)
    train = sp.load_npz(os.path.join(args.synthetic, "train.npz"))
    test = sp.load_npz(os.path.join(args.synthetic, "test.npz"))
    theirs["synthetic"] = run("synthetic", train, test, 32, args.synthetic_epochs,
                              args.eval_stride, args.threads, args.seed, args.sample_users,
                              args.repetitions)
    with open(args.json, "w") as f:
        json.dump({"ours": ours, "theirs": theirs}, f, indent=2, sort_keys=True)
    import implicit
    import lightfm

    print(f"# compare-peers {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: "
          f"LightFM {lightfm.__version__}, implicit {implicit.__version__}")
    print("# times: LightFM/ours and implicit/ours > 1 means we are faster; "
          "quality: ours/LightFM")
    print(table(ours, theirs))


if __name__ == "__main__":
    main()
