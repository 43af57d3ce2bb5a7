#!/usr/bin/env python3
"""Logistic regression on a bundled scikit-learn dataset, logged with MLflow only.

An unmodified MLflow script: it knows nothing of ReproGrid (no metrics.json, no REPRO_METRIC
lines). The worker points MLFLOW_TRACKING_URI at a file store in the job's output folder, sets the
experiment and run tags, and reads the metrics and params back after the job (issue 14). The seed
drives the train/test split; the value at the highest step of each metric is the run's.
"""

import argparse
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import warnings  # noqa: E402

import mlflow  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_digits, load_wine  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import accuracy_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

DATASETS = {"digits": load_digits, "wine": load_wine, "breast_cancer": load_breast_cancer}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--dataset", required=True, choices=sorted(DATASETS))
    parser.add_argument("--C", type=float, default=1.0)
    args = parser.parse_args()

    X, y = DATASETS[args.dataset](return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=args.seed, stratify=y)

    mlflow.log_param("C", args.C)
    mlflow.log_param("dataset", args.dataset)
    mlflow.log_param("model", "LogisticRegression")
    # A metric logged at several steps: the worker takes the one at the highest step. The early
    # steps stop before convergence on purpose.
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    for step, max_iter in enumerate((5, 20, 1000)):
        model = make_pipeline(StandardScaler(), LogisticRegression(C=args.C, max_iter=max_iter))
        model.fit(X_train, y_train)
        accuracy = accuracy_score(y_test, model.predict(X_test))
        mlflow.log_metric("accuracy", accuracy, step=step)
        print(f"step {step}: max_iter={max_iter} accuracy={accuracy:.4f}", flush=True)
    mlflow.log_metric("train_accuracy", accuracy_score(y_train, model.predict(X_train)))


if __name__ == "__main__":
    main()
