#!/usr/bin/env python3
"""Train a small MLP on one of scikit-learn's bundled datasets for one seed.

This is the example study of ReproGrid: a "preprint" that claims a small
multi-layer perceptron reaches a given accuracy on digits, wine and breast
cancer. The worker runs this script once per (seed, dataset) and reads the
metrics it writes to $REPRO_OUTPUT_DIR/metrics.json (or, without that
variable, the REPRO_METRIC lines it prints).

The seed drives both the train/test split and the network's initialisation
and minibatch order, so the spread across seeds is the quantity the study
measures. Datasets ship inside scikit-learn: nothing is downloaded.
"""

import os

# Volunteers run several task slots on one machine, and each slot is given
# one CPU. BLAS/OpenMP would otherwise start one thread per core in every
# slot and oversubscribe the machine, so pin them before numpy is imported
# (the libraries read these variables only when they load).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "BLIS_NUM_THREADS", "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

from sklearn.datasets import load_breast_cancer, load_digits, load_wine  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.metrics import accuracy_score, f1_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

DATASETS = {
    "digits": load_digits,
    "wine": load_wine,
    "breast_cancer": load_breast_cancer,
}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, required=True, help="seed for the split and the model")
    parser.add_argument("--dataset", required=True, choices=sorted(DATASETS), help="bundled dataset")
    parser.add_argument("--hidden", type=int, default=32, help="hidden units (default 32)")
    parser.add_argument("--max-iter", type=int, default=200, help="training epochs (default 200)")
    parser.add_argument("--test-size", type=float, default=0.3, help="held-out fraction (default 0.3)")
    return parser.parse_args(argv)


def progress(message):
    # Flushed at once: the worker streams these lines to the volunteer as they come.
    print(message, flush=True)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    features, labels = DATASETS[args.dataset](return_X_y=True)
    progress(f"dataset={args.dataset} samples={features.shape[0]} features={features.shape[1]} seed={args.seed}")

    x_train, x_test, y_train, y_test = train_test_split(
        features, labels, test_size=args.test_size, random_state=args.seed, stratify=labels
    )
    model = make_pipeline(
        StandardScaler(),
        MLPClassifier(
            hidden_layer_sizes=(args.hidden,),
            max_iter=args.max_iter,
            random_state=args.seed,
        ),
    )

    started = time.perf_counter()
    with warnings.catch_warnings():
        # Hitting max_iter on the small datasets is expected and part of the
        # method; the warning would only clutter the volunteer's log.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x_train, y_train)
    train_seconds = time.perf_counter() - started
    mlp = model[-1]
    progress(f"trained epochs={mlp.n_iter_} final_loss={mlp.loss_:.4f} seconds={train_seconds:.2f}")

    predictions = model.predict(x_test)
    metrics = {
        "accuracy": float(accuracy_score(y_test, predictions)),
        "f1_macro": float(f1_score(y_test, predictions, average="macro")),
        "train_seconds": round(train_seconds, 4),
    }
    progress(f"test samples={len(y_test)} accuracy={metrics['accuracy']:.4f} f1_macro={metrics['f1_macro']:.4f}")

    output_dir = os.environ.get("REPRO_OUTPUT_DIR")
    if output_dir:
        os.makedirs(output_dir, exist_ok=True)
        path = os.path.join(output_dir, "metrics.json")
        # Write then rename, so the worker never reads a half-written file.
        with open(path + ".tmp", "w", encoding="utf-8") as handle:
            json.dump(metrics, handle)
        os.replace(path + ".tmp", path)
    # Also as lines, for runs without an output directory and as a live signal.
    for name, value in metrics.items():
        print(f"REPRO_METRIC {name}={value!r}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
