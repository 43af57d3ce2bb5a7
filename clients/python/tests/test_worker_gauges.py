"""The worker's gauges move with what they measure (read with prometheus_client's parser): slots busy
while a job runs, and the result spool's depth while the coordinator cannot be reached.

A worker of this test's own talks to the coordinator through a small proxy that can answer 503 to
everything, as a coordinator that is down would. Its study asks for more memory than the step's shared
worker offers (4 GiB), so only this worker takes it; the job runs until the test releases it."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Dict, Iterator, Optional

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from reprogrid import Client

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "proxy-connection"}

JOB = """\
import sys, time, pathlib
release = pathlib.Path(sys.argv[sys.argv.index("--release") + 1])
deadline = time.time() + 240
while not release.exists():
    if time.time() > deadline:
        sys.exit("the test never released the job")
    time.sleep(0.1)
print("REPRO_METRIC accuracy=0.9")
"""


class Proxy(ThreadingHTTPServer):
    """Forwards every request to `upstream`; while `down` is set, answers 503 instead."""

    daemon_threads = True

    def __init__(self, upstream: str) -> None:
        self.upstream = httpx.Client(base_url=upstream, timeout=60)
        self.down = threading.Event()
        super().__init__(("127.0.0.1", 0), ProxyHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Proxy

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return body
                body += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _answer(self, status: int, headers: Dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _forward(self) -> None:
        body = self._body()
        if self.server.down.is_set():
            problem = b'{"type":"about:blank","title":"Service Unavailable","status":503,"detail":"test proxy: down"}'
            self._answer(503, {"Content-Type": "application/problem+json"}, problem)
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        answer = self.server.upstream.request(self.command, self.path, headers=headers, content=body)
        kept = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP | {"content-encoding"}}
        self._answer(answer.status_code, kept, answer.content)

    do_GET = do_POST = do_PUT = do_DELETE = _forward


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def gauge(url: str, name: str) -> Optional[float]:
    try:
        text = httpx.get(url, timeout=5).text
    except httpx.HTTPError:
        return None
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                return float(sample.value)
    return None


def counter(url: str, name: str, **labels: str) -> float:
    text = httpx.get(url, timeout=5).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )


def eventually(condition: Callable[[], bool], what: str, limit: float = 120) -> None:
    """Waits for `condition` (a liveness bound, not a timing assertion)."""
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, f"not within {limit} s: {what}"
        time.sleep(0.2)


@pytest.fixture()
def proxied_worker(coordinator_url: str, tmp_path: Path) -> Iterator[tuple[Proxy, str]]:
    proxy = Proxy(coordinator_url)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    admin_key = Path(os.environ["REPRO_ADMIN_KEY_FILE"]).read_text().strip()
    created = httpx.post(
        f"{coordinator_url}/v1/accounts", headers={"Authorization": f"Bearer {admin_key}"},
        json={"name": f"py-gauges-{uuid.uuid4().hex[:6]}", "roles": ["volunteer"]}, timeout=30)
    created.raise_for_status()
    key_file = tmp_path / "volunteer.key"
    key_file.touch(mode=0o600)
    key_file.write_text(created.json()["key"] + "\n")
    metrics_port = free_port()
    metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
    log = open(tmp_path / "worker.log", "wb")
    worker = subprocess.Popen(
        [
            str(Path(os.environ["REPRO_BIN"]) / "repro-worker"), "--coordinator", proxy.url, "--token-file", str(key_file),
            "--work-dir", str(tmp_path / "work"), "--isolation", "none", "--lease-wait", "2", "--name", "py-gauges",
            "--memory-mib", "8192", "--metrics-port", str(metrics_port), "--log-format", "json",
        ],
        stdout=log, stderr=subprocess.STDOUT)
    try:
        eventually(lambda: gauge(metrics_url, "reprogrid_worker_slots") == 1, "the worker's metrics server answers", 60)
        yield proxy, metrics_url
    finally:
        proxy.down.clear()
        worker.terminate()
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()
        proxy.shutdown()
        proxy.upstream.close()


def test_slots_busy_and_spool_depth_move(proxied_worker: tuple[Proxy, str], researcher: Client, tmp_path: Path) -> None:
    proxy, metrics = proxied_worker
    assert gauge(metrics, "reprogrid_worker_slots_busy") == 0
    assert gauge(metrics, "reprogrid_worker_spool_depth") == 0
    succeeded = counter(metrics, "reprogrid_worker_jobs_total", outcome="succeeded")

    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "job.py").write_text(JOB)
    release = tmp_path / "release"
    study = researcher.submit({
        "preprint": {"id": "arXiv:2501.00054", "title": "A Job That Waits for the Test"},
        "code": {"bundle": str(bundle)},
        "run": {
            "command": ["python3", "job.py", "--seed", "{seed}", "--dataset", "{dataset}", "--release", str(release)],
            "timeout": "5m",
            # More than the step's shared worker offers (4 GiB): only this test's worker takes the task.
            "resources": {"cpus": 1, "memory": "6GiB", "gpus": 0},
        },
        "matrix": {"seeds": {"from": 0, "count": 1}, "datasets": ["digits"], "replicas": 1},
        "claims": [{"metric": "accuracy", "dataset": "digits", "value": 0.9, "direction": "higher", "tolerance": 0.01}],
    }, new=True)

    eventually(lambda: gauge(metrics, "reprogrid_worker_slots_busy") == 1, "slots busy 1 while the job runs")
    # The coordinator goes away; the job finishes; its result waits in the spool.
    proxy.down.set()
    release.touch()
    eventually(lambda: gauge(metrics, "reprogrid_worker_slots_busy") == 0, "slots busy back to 0 after the job")
    eventually(lambda: gauge(metrics, "reprogrid_worker_spool_depth") == 1, "one result in the spool")
    assert counter(metrics, "reprogrid_worker_jobs_total", outcome="succeeded") == succeeded + 1
    assert study.status()["state"] == "running", "the result reached the coordinator through a proxy that was down"
    # Back: the spool is delivered and emptied.
    proxy.down.clear()
    assert study.wait(progress=False, poll=0.5, timeout=180)["state"] == "completed"
    eventually(lambda: gauge(metrics, "reprogrid_worker_spool_depth") == 0, "the spool emptied after delivery")
