#!/usr/bin/env python3
"""Write a fitted Python LightFM model in the directory layout `lightfm import` reads.

The layout is the one `lightfm export` writes:

  user_embeddings.npy, item_embeddings.npy, user_biases.npy, item_biases.npy and the
  optimiser state (*_embedding_gradients, *_embedding_momentum, *_bias_gradients,
  *_bias_momentum), float32, under LightFM's attribute names;
  user_ids.txt, item_ids.txt, user_features.txt, item_features.txt: one id or feature
  name per line, in index order (from the Dataset's mappings);
  user_feature_matrix.npz, item_feature_matrix.npz: the feature matrices the model was
  trained with (scipy.sparse.save_npz), when they are given;
  model.json: the hyper-parameters.

Then `lightfm import --dir DIR --model model.lfm` gives a model that scores as this one.

As a function (the file name has dashes, so load it with runpy or importlib):

  export = runpy.run_path("scripts/export-from-lightfm.py")["export"]
  export(model, dataset, "DIR", user_features=uf, item_features=itf)

From the shell, with the model and Dataset pickled (and the feature matrices as .npz):

  scripts/export-from-lightfm.py MODEL.pickle DATASET.pickle DIR \
      [--user-features U.npz] [--item-features I.npz]

Without a Dataset (pass None, or "-" on the command line) the ids are 0, 1, ... and the
features are the ids (identity) or feature_0, feature_1, ... (a given matrix).
"""

import argparse
import json
import os
import pickle
import sys

import numpy as np
import scipy.sparse as sp

ARRAYS = [
    "embeddings",
    "biases",
    "embedding_gradients",
    "embedding_momentum",
    "bias_gradients",
    "bias_momentum",
]


def _names(mapping, count, what):
    """The keys of an id -> index mapping in index order, as text lines."""
    names = [None] * count
    for key, index in mapping.items():
        if not 0 <= index < count:
            raise ValueError(f"{what}: index {index} of {key!r} is outside 0..{count - 1}")
        names[index] = str(key)
    for index, name in enumerate(names):
        if name is None:
            raise ValueError(f"{what}: no name for index {index}")
        if "\n" in name or "\r" in name or name == "":
            raise ValueError(f"{what}: {name!r} cannot be written as one line")
    return names


def export(model, dataset, directory, user_features=None, item_features=None):
    """Writes `model` (fitted) and the mappings of `dataset` into `directory` (created)."""
    if getattr(model, "item_embeddings", None) is None:
        raise ValueError("the model is not fitted")
    os.makedirs(directory, exist_ok=True)
    for side in ("user", "item"):
        for suffix in ARRAYS:
            name = f"{side}_{suffix}"
            array = np.ascontiguousarray(getattr(model, name), dtype=np.float32)
            np.save(os.path.join(directory, name + ".npy"), array)

    matrices = {"user": user_features, "item": item_features}
    counts = {}
    for side in ("user", "item"):
        features = getattr(model, f"{side}_embeddings").shape[0]
        matrix = matrices[side]
        if matrix is not None:
            matrix = sp.csr_matrix(matrix, dtype=np.float32)
            if matrix.shape[1] != features:
                raise ValueError(
                    f"the {side} feature matrix has {matrix.shape[1]} columns, the model "
                    f"{features} {side} features")
        if dataset is not None:
            id_map, feature_map = {
                "user": lambda m: (m[0], m[1]),
                "item": lambda m: (m[2], m[3]),
            }[side](dataset.mapping())
            ids = _names(id_map, len(id_map), f"{side} ids")
            names = _names(feature_map, len(feature_map), f"{side} features")
        else:
            rows = matrix.shape[0] if matrix is not None else features
            ids = [str(i) for i in range(rows)]
            names = ids if matrix is None else [f"feature_{j}" for j in range(features)]
        if len(names) != features:
            raise ValueError(
                f"the Dataset has {len(names)} {side} features, the model {features}")
        if matrix is not None:
            if matrix.shape[0] != len(ids):
                raise ValueError(
                    f"the {side} feature matrix has {matrix.shape[0]} rows for {len(ids)} ids")
            sp.save_npz(os.path.join(directory, f"{side}_feature_matrix.npz"), matrix)
        elif names[: len(ids)] != ids or len(names) != len(ids):
            raise ValueError(
                f"the {side}s have features beyond their ids: pass {side}_features=, the "
                "matrix the model was trained with")
        for kind, lines in (("ids", ids), ("features", names)):
            with open(os.path.join(directory, f"{side}_{kind}.txt"), "w", encoding="utf-8") as f:
                f.write("".join(line + "\n" for line in lines))
        counts[side] = (len(ids), len(names))

    hyper = {
        "format": "lightfm-export-1",
        "loss": model.loss,
        "learning_schedule": model.learning_schedule,
        "no_components": int(model.no_components),
        "learning_rate": float(model.learning_rate),
        "item_alpha": float(model.item_alpha),
        "user_alpha": float(model.user_alpha),
        "max_sampled": int(model.max_sampled),
        "k": int(model.k),
        "n": int(model.n),
        "rho": float(model.rho),
        "epsilon": float(model.epsilon),
        "users": counts["user"][0],
        "items": counts["item"][0],
        "user_features": counts["user"][1],
        "item_features": counts["item"][1],
    }
    with open(os.path.join(directory, "model.json"), "w", encoding="utf-8") as f:
        json.dump(hyper, f, indent=2)
        f.write("\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="a pickled, fitted lightfm.LightFM")
    parser.add_argument("dataset", help="a pickled lightfm.data.Dataset, or - for none")
    parser.add_argument("dir", help="the directory to write")
    parser.add_argument("--user-features", help="the user feature matrix (.npz)")
    parser.add_argument("--item-features", help="the item feature matrix (.npz)")
    args = parser.parse_args()
    with open(args.model, "rb") as f:
        model = pickle.load(f)
    dataset = None
    if args.dataset != "-":
        with open(args.dataset, "rb") as f:
            dataset = pickle.load(f)
    load = lambda path: sp.load_npz(path) if path else None
    export(model, dataset, args.dir, load(args.user_features), load(args.item_features))
    print(f"wrote {args.dir}", file=sys.stderr)


if __name__ == "__main__":
    main()
