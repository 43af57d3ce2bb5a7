"""Result ingestion rate of an MLflow tracking server (issue 16's ingestion peer): runs recorded per second.

Run by `scripts/bench.sh peers` in its own virtualenv, against `mlflow server --backend-store-uri
postgresql://…` on the same PostgreSQL cluster as ReproGrid:

    python mlflow_ingest.py --url http://127.0.0.1:PORT --clients 8 --seconds 20 --metrics 10

Every run is what a tracking client sends for one finished training run, over MLflow's documented REST API
(the calls MlflowClient.create_run, log_batch and set_terminated make): runs/create, runs/log-batch with
--metrics metrics, runs/update to FINISHED. --clients threads record runs one after another, each with its
own HTTP session (keep-alive), as separate machines would, and start no new run after --seconds (a bound
on the time, not a count, because the server's rate is not known in advance). The clock runs from the
first request to the last answer; the rate counts finished runs. A fresh experiment per call keeps
passes apart.
"""

from __future__ import annotations

import argparse
import threading
import time
import uuid

import requests


def post(session: requests.Session, url: str, path: str, body: dict) -> dict:
    response = session.post(f"{url}/api/2.0/mlflow/{path}", json=body, timeout=60)
    if response.status_code != 200:
        raise RuntimeError(f"{path}: HTTP {response.status_code}: {response.text[:300]}")
    return response.json()


def record_runs(
    url: str, experiment_id: str, deadline: float, metrics: int, finished: list[int], failures: list[BaseException]
) -> None:
    try:
        with requests.Session() as session:
            while time.perf_counter() < deadline:
                now = int(time.time() * 1000)
                run = post(session, url, "runs/create", {"experiment_id": experiment_id, "start_time": now})
                run_id = run["run"]["info"]["run_id"]
                batch = [
                    {"key": "score" if index == 0 else f"metric_{index}", "value": index / 10, "timestamp": now, "step": 0}
                    for index in range(metrics)
                ]
                post(session, url, "runs/log-batch", {"run_id": run_id, "metrics": batch})
                post(session, url, "runs/update", {"run_id": run_id, "status": "FINISHED", "end_time": now})
                finished.append(1)  # list.append is atomic under the GIL
    except BaseException as error:  # reported by the main thread
        failures.append(error)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the tracking server, http://127.0.0.1:PORT")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20, help="no client starts a run after this")
    parser.add_argument("--metrics", type=int, default=10)
    args = parser.parse_args()

    with requests.Session() as session:
        experiment = post(session, args.url, "experiments/create", {"name": f"ingest-{uuid.uuid4()}"})
    experiment_id = experiment["experiment_id"]
    finished: list[int] = []
    failures: list[BaseException] = []
    start = time.perf_counter()
    threads = [
        threading.Thread(
            target=record_runs, args=(args.url, experiment_id, start + args.seconds, args.metrics, finished, failures)
        )
        for _ in range(args.clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if failures:
        raise SystemExit(f"error: {len(failures)} clients failed; first: {failures[0]}")
    runs = len(finished)
    print(f"== MLflow ingestion: {args.clients} clients, {args.metrics} metrics per run, {args.seconds:g} s")
    print(f"runs/s:             {runs / elapsed:.0f} ({runs} runs in {elapsed:.2f} s)")


if __name__ == "__main__":
    main()
