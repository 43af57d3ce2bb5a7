"""A live coordinator for the tests: scripts/steps/30-python.sh starts one (REPRO_COORDINATOR,
REPRO_ADMIN_KEY_FILE) and, for studies to finish, a real repro-worker with --isolation none
(REPRO_WORKER_KEY_FILE names the volunteer key it uses)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Dict

import httpx
import pytest

from reprogrid import Client

HERE = Path(__file__).parent


def _admin() -> httpx.Client:
    url = os.environ.get("REPRO_COORDINATOR")
    key_file = os.environ.get("REPRO_ADMIN_KEY_FILE")
    if not url or not key_file:
        pytest.fail("REPRO_COORDINATOR and REPRO_ADMIN_KEY_FILE must name a live coordinator (scripts/steps/30-python.sh)")
    key = Path(key_file).read_text().strip()
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30)


@pytest.fixture(scope="session")
def coordinator_url() -> str:
    return os.environ["REPRO_COORDINATOR"]


@pytest.fixture(scope="session")
def accounts() -> Dict[str, str]:
    """Keys of a trusted researcher, a funder and a community member, made through the admin API."""
    with _admin() as admin:
        keys = {}
        for role in ("researcher", "funder", "community"):
            answer = admin.post("/v1/accounts", json={"name": f"py-{role}-{uuid.uuid4().hex[:6]}", "roles": [role]})
            answer.raise_for_status()
            created = answer.json()
            keys[role] = created["key"]
            if role == "researcher":
                admin.post(f"/v1/accounts/{created['account_id']}/trust", json={"trusted": True}).raise_for_status()
    return keys


@pytest.fixture()
def researcher(coordinator_url: str, accounts: Dict[str, str]) -> Client:
    return Client(coordinator_url, accounts["researcher"])


@pytest.fixture(scope="session")
def tiny_study_path() -> Path:
    return HERE / "tiny-study" / "study.yaml"
