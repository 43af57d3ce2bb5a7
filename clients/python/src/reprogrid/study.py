"""A submitted study: its status, a blocking wait with progress, its report and runs."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Dict, List, Optional

from .errors import StudyFailed, expect_object
from .frames import to_frame

if TYPE_CHECKING:
    from .client import Client

DONE = {"completed", "cancelled", "rejected"}


class Study:
    """A study on the coordinator. ``created`` is the submission's answer (``existing``, ``state``…)."""

    def __init__(self, client: "Client", study_id: str, created: Optional[Dict[str, Any]]) -> None:
        self.client = client
        self.id = study_id
        self.created = created or {}

    def __repr__(self) -> str:
        return f"Study({self.id!r})"

    @property
    def existing(self) -> bool:
        """True when the coordinator returned an earlier identical submission instead of a new study."""
        return bool(self.created.get("existing", False))

    def status(self) -> Dict[str, Any]:
        return self.client.get_object(f"/v1/studies/{self.id}")

    def wait(self, progress: bool = True, poll: float = 2.0, timeout: Optional[float] = None) -> Dict[str, Any]:
        """Blocks until the study is completed and returns its status. A tqdm bar of finished tasks
        when ``progress`` and tqdm is installed. Raises StudyFailed if it ends cancelled or rejected,
        TimeoutError after ``timeout`` seconds."""
        bar = _bar(progress)
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while True:
                status = self.status()
                tasks = status.get("tasks", {})
                if bar is not None:
                    total = status.get("task_count") or sum(tasks.values())
                    done = sum(tasks.get(state, 0) for state in ("succeeded", "failed", "cancelled"))
                    if bar.total != total:
                        bar.total = total
                    bar.n = done
                    bar.set_postfix_str(status.get("state", ""), refresh=True)
                state = status.get("state")
                if state == "completed":
                    return status
                if state in DONE:
                    raise StudyFailed(self.id, str(state))
                if deadline is not None and time.monotonic() >= deadline:
                    raise TimeoutError(f"study {self.id} still {state} after {timeout} s")
                time.sleep(poll)
        finally:
            if bar is not None:
                bar.close()

    def report(self) -> Dict[str, Any]:
        """The report: claims, verdicts, per-metric statistics and the runs table."""
        return self.client.get_object(f"/v1/studies/{self.id}/report")

    def runs(self, as_frame: bool = False) -> Any:
        """Every run (attempt) with its metrics (and MLflow params); a flat DataFrame with ``as_frame``
        (``metrics.accuracy``, ``params.C``… columns)."""
        runs: List[Dict[str, Any]] = self.client.get_json(f"/v1/studies/{self.id}/runs").get("runs", [])
        return to_frame(runs) if as_frame else runs

    def cancel(self) -> Dict[str, Any]:
        return expect_object(self.client.request("POST", f"/v1/studies/{self.id}/cancel").json(), "cancel")


def _bar(progress: bool) -> Any:
    if not progress:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=0, unit="task", desc="study")
