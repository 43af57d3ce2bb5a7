"""Prometheus metrics of the coordinator (--metrics-port) and the worker, read with prometheus_client's
text parser: the exposition must parse, counters must move when a study runs, and every metric the
Grafana dashboard queries must exist."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Dict, Set, Tuple

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from reprogrid import Client

Sample = Tuple[str, Tuple[Tuple[str, str], ...]]
DASHBOARD = Path(__file__).resolve().parents[3] / "coordinator" / "grafana" / "reprogrid.json"


def scrape(url: str) -> Dict[Sample, float]:
    answer = httpx.get(url, timeout=10)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    values: Dict[Sample, float] = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return values


def total(values: Dict[Sample, float], name: str, **labels: str) -> float:
    return sum(v for (n, ls), v in values.items() if n == name and set(labels.items()) <= set(ls))


def names(values: Dict[Sample, float]) -> Set[str]:
    return {name for name, _ in values}


@pytest.fixture(scope="module")
def urls() -> Tuple[str, str]:
    return os.environ["REPRO_METRICS_URL"], os.environ["REPRO_WORKER_METRICS_URL"]


def test_counters_move_when_a_study_runs(urls, coordinator_url: str, accounts: Dict[str, str], tiny_study_path) -> None:
    coordinator, worker = urls
    before, worker_before = scrape(coordinator), scrape(worker)
    study = Client(coordinator_url, accounts["researcher"]).submit(tiny_study_path, new=True)
    study.wait(progress=False, poll=0.5, timeout=300)
    after, worker_after = scrape(coordinator), scrape(worker)

    def moved(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    assert moved("reprogrid_leased_tasks_total") >= 3
    assert moved("reprogrid_lease_requests_total", result="granted") >= 1
    assert moved("reprogrid_lease_tasks_per_grant_count") >= 1
    assert moved("reprogrid_results_total", status="accepted", reason="succeeded") == 3
    assert moved("reprogrid_http_requests_total", route="/v1/studies", method="POST", status="201") == 1
    # The worker reports results with its next lease request (POST /v1/leases/cycle) and falls back to
    # POST /v1/results; either route's latency histogram counts them.
    assert (
        moved("reprogrid_http_request_duration_seconds_count", route="/v1/results", method="POST")
        + moved("reprogrid_http_request_duration_seconds_count", route="/v1/leases/cycle", method="POST")
    ) >= 1
    # Route templates, never raw paths: a study id must not become a label value.
    assert not any(study.id in dict(labels).get("route", "") for _, labels in after)

    def worker_moved(name: str, **labels: str) -> float:
        return total(worker_after, name, **labels) - total(worker_before, name, **labels)

    assert worker_moved("reprogrid_worker_jobs_total", outcome="succeeded") == 3
    assert worker_moved("reprogrid_worker_job_duration_seconds_count", outcome="succeeded") == 3
    assert total(worker_after, "reprogrid_worker_slots") == 1
    assert total(worker_after, "reprogrid_worker_last_contact_timestamp_seconds") > time.time() - 120


def test_periodic_gauges_see_the_worker(urls) -> None:
    coordinator, _ = urls
    # Refreshed every 5 s from the database, not per scrape.
    deadline = time.monotonic() + 60
    while True:
        values = scrape(coordinator)
        if total(values, "reprogrid_workers_seen_last_minute") >= 1:
            break
        assert time.monotonic() < deadline, "reprogrid_workers_seen_last_minute never counted the worker"
        time.sleep(1)
    for state in ("queued", "leased", "held", "succeeded", "failed", "cancelled"):
        assert ("reprogrid_tasks", (("state", state),)) in values, f"reprogrid_tasks{{state={state!r}}} missing"
    assert "reprogrid_oldest_queued_task_age_seconds" in names(values)
    assert "reprogrid_score_lag_seconds" in names(values)


def test_every_dashboard_query_names_an_existing_metric(urls) -> None:
    coordinator, worker = urls
    dashboard = json.loads(DASHBOARD.read_text())
    exposed = names(scrape(coordinator)) | names(scrape(worker))
    queried: Set[str] = set()
    for panel in dashboard["panels"]:
        targets = panel.get("targets", [])
        assert targets, f"panel {panel.get('title')!r} has no query"
        for target in targets:
            found = set(re.findall(r"\breprogrid_[a-z0-9_]+", target["expr"]))
            assert found, f"panel {panel.get('title')!r}: {target['expr']!r} names no reprogrid metric"
            queried |= found
    missing = sorted(queried - exposed)
    assert not missing, f"the dashboard queries metrics nobody exposes: {missing}"
