"""Errors: every non-2xx answer of the coordinator becomes a ProblemError carrying its problem document."""

from __future__ import annotations

from typing import Any, Dict, List, Optional


class ReproGridError(Exception):
    """Base class of the client's errors."""


class ProblemError(ReproGridError):
    """The coordinator refused a request; ``problem`` is its RFC 9457 problem document.

    ``field`` names the request field at fault and ``issues`` lists each one (``path``, ``reason``,
    ``line`` for a spec), when the coordinator said so.
    """

    def __init__(self, status: int, problem: Dict[str, Any], method: str = "", url: str = "") -> None:
        self.status = status
        self.problem = problem
        self.method = method
        self.url = url
        super().__init__(self._message())

    @property
    def title(self) -> str:
        return str(self.problem.get("title", ""))

    @property
    def detail(self) -> str:
        return str(self.problem.get("detail", ""))

    @property
    def field(self) -> Optional[str]:
        value = self.problem.get("field")
        return None if value is None else str(value)

    @property
    def issues(self) -> List[Dict[str, Any]]:
        value = self.problem.get("issues")
        return list(value) if isinstance(value, list) else []

    def _message(self) -> str:
        text = f"{self.method} {self.url}: {self.status} {self.title}".strip()
        if self.detail:
            text += f": {self.detail}"
        if self.field:
            text += f" (field {self.field})"
        for issue in self.issues:
            where = issue.get("path", "?")
            if issue.get("line") is not None:
                where += f" (line {issue['line']})"
            text += f"\n  - {where}: {issue.get('reason', '')}"
        return text


class StudyFailed(ReproGridError):
    """``Study.wait`` saw the study end in a state other than completed (cancelled, rejected)."""

    def __init__(self, study_id: str, state: str) -> None:
        self.study_id = study_id
        self.state = state
        super().__init__(f"study {study_id} ended as {state}")


def expect_object(value: Any, what: str) -> Dict[str, Any]:
    """``value`` (a decoded JSON answer) as a dict, or ReproGridError when the coordinator answered
    something else: the typed methods promise a dict, and a list or a string would fail later, far
    from the cause."""
    if not isinstance(value, dict):
        raise ReproGridError(f"{what}: expected a JSON object from the coordinator, got {type(value).__name__}")
    return value
