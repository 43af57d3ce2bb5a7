"""The client against a live coordinator and a real worker (scripts/steps/30-python.sh)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Dict
from urllib.parse import quote

import pandas
import pytest
import tqdm  # noqa: F401  (the step installs it: without it, wait(progress=True) draws nothing, silently)

from reprogrid import Client, ProblemError
from reprogrid.bundle import local_bundle, with_bundle

SEEDS = [0, 1, 2]


PREPRINTS = ["arXiv:2501.00014", "arXiv:2501.00024"]


@pytest.fixture(scope="module")
def completed(coordinator_url: str, accounts: Dict[str, str], tiny_study_path: Path):
    client = Client(coordinator_url, accounts["researcher"])
    study = client.submit(tiny_study_path, new=True)
    # A second preprint, so the funders' table has two rows to page through.
    second = client.submit(tiny_study_path.with_name("study-b.yaml"), new=True)
    status = study.wait(progress=False, poll=0.5, timeout=300)
    second.wait(progress=False, poll=0.5, timeout=300)
    return client, study, status


def test_submit_wait_and_runs(completed) -> None:
    _, study, status = completed
    assert status["state"] == "completed"
    assert status["tasks"]["succeeded"] == len(SEEDS)
    runs = study.runs()
    accepted = [run for run in runs if run["accepted"]]
    assert sorted(run["seed"] for run in accepted) == SEEDS
    for run in accepted:
        assert run["metrics"]["accuracy"] == pytest.approx(0.9 + run["seed"] / 1000)


def test_runs_as_frame(completed) -> None:
    _, study, _ = completed
    frame = study.runs(as_frame=True)
    assert isinstance(frame, pandas.DataFrame)
    accepted = frame[frame["accepted"]].sort_values("seed")
    assert list(accepted["seed"]) == SEEDS
    assert list(accepted["metrics.accuracy"]) == pytest.approx([0.9, 0.901, 0.902])


def test_report(completed) -> None:
    _, study, _ = completed
    report = study.report()
    assert report["accepted_runs"] == len(SEEDS)
    assert {run["seed"] for run in report["runs"]} == set(SEEDS)


def test_resubmitting_returns_the_same_study(completed, tiny_study_path: Path) -> None:
    client, study, _ = completed
    again = client.submit(tiny_study_path)
    assert again.existing
    assert again.id == study.id


def test_scores_follow_cursors(coordinator_url: str, accounts: Dict[str, str], completed) -> None:
    funder = Client(coordinator_url, accounts["funder"])
    # Scores are recomputed in the background (about every second) after a study completes.
    deadline = time.monotonic() + 60
    while not set(PREPRINTS) <= {row["preprint_id"] for row in funder.scores()}:
        assert time.monotonic() < deadline, "the preprints never reached the scores table"
        time.sleep(0.5)
    # One row per page: the second page comes only from following next_cursor.
    paged = funder.scores(page_size=1, sort="date", order="asc")
    everything = funder.scores(page_size=1000, sort="date", order="asc")
    assert len(everything) >= 2
    assert [row["preprint_id"] for row in paged] == [row["preprint_id"] for row in everything]
    # A value with spaces must reach the coordinator as such (not as "Python+Client+Fund").
    filtered = funder.scores(funder="Python Client Fund", as_frame=True)
    assert sorted(filtered["preprint_id"]) == PREPRINTS
    assert sorted(row["preprint_id"] for row in funder.scores(institution="Test Institute")) == PREPRINTS


def test_feedback_post_and_list(coordinator_url: str, accounts: Dict[str, str], completed) -> None:
    _, study, _ = completed
    community = Client(coordinator_url, accounts["community"])
    posted = community.feedback(
        "arXiv:2501.00014", "reproduced", rating=4, tags=["numbers-match"], text="ran it", study_id=study.id)
    assert posted["feedback"]["verdict"] == "reproduced"
    items = community.feedback("arXiv:2501.00014")
    assert [item["verdict"] for item in items] == ["reproduced"]


def test_problem_document_names_the_field(researcher: Client) -> None:
    spec = {
        "preprint": {"id": "arXiv:2501.00015", "title": "Bad seeds"},
        "code": {"bundle": "sha256:" + "0" * 64},
        "run": {"command": ["python3", "job.py"]},
        "matrix": {"seeds": {"from": 0, "count": -3}, "datasets": ["digits"]},
    }
    with pytest.raises(ProblemError) as raised:
        researcher.submit(spec)
    error = raised.value
    assert 400 <= error.status < 500
    assert error.problem["status"] == error.status
    paths = [issue["path"] for issue in error.issues] + [error.field or ""]
    assert any("matrix.seeds" in path for path in paths), error.problem
    assert "matrix.seeds" in str(error)


def test_yaml_problem_carries_the_line(researcher: Client, tmp_path: Path) -> None:
    spec = tmp_path / "study.yaml"
    spec.write_text(
        "preprint: {id: 'arXiv:2501.00016', title: T}\n"
        "code: {bundle: 'sha256:" + "0" * 64 + "'}\n"
        "run: {command: [python3, job.py]}\n"
        "matrix:\n"
        "  seeds: {from: 0, count: 2}\n"
        "  datasets: [digits]\n"
        "  replicas: many\n")
    with pytest.raises(ProblemError) as raised:
        researcher.submit(spec)
    lines = [issue.get("line") for issue in raised.value.issues]
    assert 7 in lines, raised.value.problem


def test_bad_key_is_a_problem(coordinator_url: str) -> None:
    with pytest.raises(ProblemError) as raised:
        Client(coordinator_url, "rg_not-a-key").study("00000000-0000-0000-0000-000000000000").status()
    assert raised.value.status == 401


def test_environment_configures_the_client(monkeypatch: pytest.MonkeyPatch, coordinator_url: str, accounts) -> None:
    monkeypatch.setenv("REPRO_COORDINATOR", coordinator_url)
    monkeypatch.setenv("REPRO_KEY", accounts["funder"])
    client = Client()
    assert client.url == coordinator_url.rstrip("/")
    assert isinstance(client.scores(), list)


def test_bundle_reference_is_rewritten_in_block_and_flow_yaml() -> None:
    block = "code:\n  # here\n  bundle: ./src  # the code\nrun: {}\n"
    assert local_bundle(block, False) == "./src"
    assert with_bundle(block, False, "sha256:ab") == "code:\n  # here\n  bundle: \"sha256:ab\"\nrun: {}\n"
    flow = "code: {bundle: '.'}\n"
    assert local_bundle(flow, False) == "."
    assert with_bundle(flow, False, "sha256:cd") == "code: {bundle: \"sha256:cd\"}\n"
    assert local_bundle("code:\n  bundle: sha256:ef\n", False) is None


def dict_spec(bundle: Path, preprint: str) -> Dict[str, Any]:
    """The tiny study as a dict (no funder or institution: the scores test counts those rows)."""
    return {
        "preprint": {"id": preprint, "title": "A Tiny Study Submitted as a Dict"},
        "code": {"bundle": str(bundle)},
        "run": {
            "command": ["python3", "job.py", "--seed", "{seed}", "--dataset", "{dataset}"],
            "timeout": "1m",
            "resources": {"cpus": 1, "memory": "512MiB", "gpus": 0},
        },
        "matrix": {"seeds": {"from": 0, "count": 2}, "datasets": ["digits"], "replicas": 1},
        "claims": [{"metric": "accuracy", "dataset": "digits", "value": 0.9, "direction": "higher", "tolerance": 0.01}],
    }


def test_submit_a_dict(researcher: Client, tiny_study_path: Path) -> None:
    spec = dict_spec(tiny_study_path.parent, "arXiv:2501.00034")
    study = researcher.submit(spec)
    assert not study.existing
    status = study.wait(progress=False, poll=0.5, timeout=300)
    assert status["state"] == "completed"
    assert sorted(run["seed"] for run in study.runs() if run["accepted"]) == [0, 1]
    # The local bundle folder was packed and uploaded; the caller's dict is left as it was.
    assert spec["code"]["bundle"] == str(tiny_study_path.parent)
    again = researcher.submit(spec)
    assert again.existing and again.id == study.id


def test_wait_with_progress_draws_a_tqdm_bar(researcher: Client, tiny_study_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    study = researcher.submit(tiny_study_path, new=True)
    status = study.wait(progress=True, poll=0.2, timeout=300)
    assert status["state"] == "completed"
    bar = capsys.readouterr().err
    # The bar's description, all three tasks done out of three, and the study's state as its postfix.
    assert "study" in bar and "3/3" in bar and "completed" in bar, repr(bar)


def test_preprint_ids_are_one_escaped_path_segment(coordinator_url: str, accounts: Dict[str, str]) -> None:
    # A DOI may hold any printable ASCII: "/" would split the path segment, "?" start a query, "#" a
    # fragment, "%" an escape. Each must reach the coordinator as part of the id.
    doi = "10.5555/repro#grid?v=1%2"
    researcher = Client(coordinator_url, accounts["researcher"])
    researcher.request("PUT", f"/v1/preprints/{quote(doi, safe='')}", json={"title": "A DOI with #, ? and %"})
    community = Client(coordinator_url, accounts["community"])
    stored = "doi:" + doi
    posted = community.feedback(doi, "comment", text="the id survives the URL")
    assert posted["feedback"]["preprint_id"] == stored
    items = community.feedback(doi)
    assert [(item["preprint_id"], item["text"]) for item in items] == [(stored, "the id survives the URL")]
    summary = community.feedback_summary(doi)
    assert (summary["preprint_id"], summary["items"]) == (stored, 1)
    assert community.score(doi)["preprint_id"] == stored
