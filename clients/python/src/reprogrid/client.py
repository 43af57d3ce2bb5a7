"""The HTTP client: one httpx.Client with the bearer key, problem documents turned into ProblemError."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote, urlencode
from typing import Any, Dict, Iterator, List, Optional, Union

import httpx

from . import bundle
from .errors import ProblemError, ReproGridError, expect_object
from .frames import to_frame
from .study import Study


class Client:
    """A coordinator at ``url`` called with API key ``key``.

    Both default to the environment the CLI reads: ``REPRO_COORDINATOR`` (else
    ``http://127.0.0.1:8080``) and ``REPRO_KEY``.
    """

    def __init__(
        self,
        url: Optional[str] = None,
        key: Optional[str] = None,
        *,
        timeout: float = 60.0,
        transport: Optional[httpx.BaseTransport] = None,
    ) -> None:
        self.url = (url or os.environ.get("REPRO_COORDINATOR") or "http://127.0.0.1:8080").rstrip("/")
        key = key if key is not None else os.environ.get("REPRO_KEY")
        headers = {"User-Agent": "reprogrid-python/0.1"}
        if key:
            headers["Authorization"] = f"Bearer {key.strip()}"
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout, transport=transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Requests

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Sends a request; any answer but 2xx raises ProblemError with the coordinator's problem document."""
        response = self._http.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise ProblemError(response.status_code, _problem(response), method, str(response.url))
        return response

    def get_json(self, path: str, **params: Any) -> Any:
        clean = {k: _query_value(v) for k, v in params.items() if v is not None}
        # Spaces as %20, which every server reads as a space: httpx would write "+", which coordinators
        # before issue 11 read literally (funder="Swedish Research Council" then matched nothing).
        query = urlencode(clean, quote_via=quote)
        return self.request("GET", f"{path}?{query}" if query else path).json()

    def get_object(self, path: str, **params: Any) -> Dict[str, Any]:
        """``get_json`` for answers that are a JSON object."""
        return expect_object(self.get_json(path, **params), f"GET {path}")

    # Studies

    def submit(self, spec: Union[str, "os.PathLike[str]", Dict[str, Any]], new: bool = False) -> Study:
        """Submits a study from a spec file (YAML or JSON) or a dict, uploading a local code bundle first.

        An identical spec this account already submitted returns that study (``study.existing``)
        unless ``new=True``.
        """
        if isinstance(spec, dict):
            text, is_json, base = bundle.spec_from_dict(spec), True, Path.cwd()
        else:
            path = Path(spec)
            text, is_json = bundle.read_spec(path)
            base = path.resolve().parent
        folder = bundle.local_bundle(text, is_json)
        if folder is not None:
            archive = bundle.pack((base / folder).resolve())
            uploaded = self.request(
                "POST", "/v1/bundles", content=archive, headers={"Content-Type": "application/gzip"}
            ).json()
            text = bundle.with_bundle(text, is_json, f"sha256:{uploaded['sha256']}")
        created = self.request(
            "POST",
            "/v1/studies",
            params={"new": "true"} if new else None,
            content=text.encode("utf-8"),
            headers={"Content-Type": "application/json" if is_json else "application/yaml"},
        ).json()
        return Study(self, created["id"], created)

    def study(self, study_id: str) -> Study:
        """A study already submitted, by id."""
        return Study(self, str(study_id), None)

    # Funders

    def scores(self, as_frame: bool = False, page_size: int = 200, **filters: Any) -> Any:
        """Every row of the funders' table matching ``filters`` (funder, grant, institution, field,
        min_score, max_score, scored_only, updated_since, sort, order), following ``next_cursor``
        until the last page. A pandas DataFrame with ``as_frame=True`` (needs the ``pandas`` extra)."""
        rows = list(self.iter_scores(page_size=page_size, **filters))
        return to_frame(rows) if as_frame else rows

    def iter_scores(self, page_size: int = 200, **filters: Any) -> Iterator[Dict[str, Any]]:
        if "cursor" in filters or "limit" in filters:
            raise ReproGridError("scores() follows cursors itself: pass page_size instead of limit/cursor")
        cursor: Optional[str] = None
        while True:
            page = self.get_json("/v1/scores", limit=page_size, cursor=cursor, **filters)
            yield from page.get("rows", [])
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def score(self, preprint: str) -> Dict[str, Any]:
        return self.get_object(f"/v1/preprints/{_segment(preprint)}/score")

    # Feedback

    def feedback(
        self,
        preprint: str,
        verdict: Optional[str] = None,
        *,
        rating: Optional[int] = None,
        tags: Optional[List[str]] = None,
        text: Optional[str] = None,
        study_id: Optional[str] = None,
        as_frame: bool = False,
    ) -> Any:
        """With ``verdict``: posts this account's feedback on ``preprint`` (reproduced, partially,
        not_reproduced, comment) and returns ``{feedback, history}``. Without: every visible feedback
        item of the preprint, newest first, following cursors."""
        path = f"/v1/preprints/{_segment(preprint)}/feedback"
        if verdict is not None:
            body: Dict[str, Any] = {"verdict": verdict}
            for name, value in (("rating", rating), ("tags", tags), ("text", text), ("study_id", study_id)):
                if value is not None:
                    body[name] = value
            return self.request("POST", path, json=body).json()
        items: List[Dict[str, Any]] = []
        cursor: Optional[str] = None
        while True:
            page = self.get_json(path, limit=200, cursor=cursor)
            items.extend(page.get("items", []))
            cursor = page.get("next_cursor")
            if not cursor:
                break
        return to_frame(items) if as_frame else items

    def feedback_summary(self, preprint: str) -> Dict[str, Any]:
        return self.get_object(f"/v1/preprints/{_segment(preprint)}/feedback/summary")


def _problem(response: httpx.Response) -> Dict[str, Any]:
    try:
        document = response.json()
        if isinstance(document, dict):
            return document
    except ValueError:
        pass
    return {"title": response.reason_phrase, "status": response.status_code, "detail": response.text[:2000]}


def _query_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _segment(preprint: str) -> str:
    # The id is one path segment, percent-encoded whole: a DOI may hold any printable ASCII character,
    # and its "/" would split the segment, "?" start the query, "#" start a fragment (never sent), "%"
    # be read as an escape. The coordinator decodes the segment (PreprintPath).
    return quote(preprint, safe="")
