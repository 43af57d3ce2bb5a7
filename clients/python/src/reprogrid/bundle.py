"""Code bundles and specs, as `repro submit` prepares them: a local `code.bundle` folder is packed
into a gzipped tar (sorted names, time 0, owner 0, modes 0644/0755, no `.git` or `__pycache__`),
uploaded, and the spec then names it by `sha256:`."""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import stat
import tarfile
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

EXCLUDED = {".git", "__pycache__"}


def pack(directory: Path) -> bytes:
    """The folder as a deterministic .tar.gz (same tree, same bytes)."""
    if not directory.is_dir():
        raise FileNotFoundError(f"code.bundle: {directory} is not a directory")
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        tar.add(str(directory), arcname=".", recursive=False, filter=_normalise)
        for root, dirs, files in os.walk(directory):
            dirs[:] = sorted(d for d in dirs if d not in EXCLUDED)
            for name in sorted(dirs + [f for f in files if f not in EXCLUDED]):
                path = Path(root) / name
                arcname = "./" + path.relative_to(directory).as_posix()
                tar.add(str(path), arcname=arcname, recursive=False, filter=_normalise)
    compressed = io.BytesIO()
    with gzip.GzipFile(fileobj=compressed, mode="wb", mtime=0, filename="") as out:
        out.write(raw.getvalue())
    return compressed.getvalue()


def _normalise(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    executable = info.isdir() or bool(info.mode & stat.S_IXUSR)
    info.mode = 0o755 if executable else 0o644
    return info


_BUNDLE_LINE = re.compile(r"^(?P<indent>\s+)bundle:\s*(?P<value>[^#\s][^#]*?)\s*(?P<comment>#.*)?$")
_CODE_FLOW = re.compile(r"^code:\s*\{\s*bundle:\s*(?P<value>[^,}]+?)\s*\}\s*(#.*)?$")


def local_bundle(spec_text: str, is_json: bool) -> Optional[str]:
    """The spec's `code.bundle` when it names a local folder (not `sha256:`), else None."""
    if is_json:
        code = json.loads(spec_text).get("code") or {}
        value = code.get("bundle") if isinstance(code, dict) else None
        return None if value is None or str(value).startswith("sha256:") else str(value)
    value, _ = _find_bundle_line(spec_text)
    if value is None or value.startswith("sha256:"):
        return None
    return value


def with_bundle(spec_text: str, is_json: bool, reference: str) -> str:
    """The spec text with `code.bundle` replaced by `reference` (everything else byte for byte)."""
    if is_json:
        document = json.loads(spec_text)
        document["code"]["bundle"] = reference
        return json.dumps(document)
    _, line_number = _find_bundle_line(spec_text)
    lines = spec_text.splitlines(keepends=True)
    line = lines[line_number]
    flow = _CODE_FLOW.match(line.rstrip("\n"))
    if flow:
        lines[line_number] = f"code: {{bundle: \"{reference}\"}}\n"
    else:
        match = _BUNDLE_LINE.match(line.rstrip("\n"))
        assert match is not None
        lines[line_number] = f"{match.group('indent')}bundle: \"{reference}\"\n"
    return "".join(lines)


def _find_bundle_line(spec_text: str) -> Tuple[Optional[str], int]:
    # No YAML parser in the dependencies (httpx only): the block `code:` / `  bundle: X` and the flow
    # `code: {bundle: X}` forms are recognised; anything fancier should be passed as a dict or JSON.
    lines = spec_text.splitlines()
    for number, line in enumerate(lines):
        flow = _CODE_FLOW.match(line)
        if flow:
            return _unquote(flow.group("value")), number
        if re.match(r"^code:\s*(#.*)?$", line):
            for inner in range(number + 1, len(lines)):
                candidate = lines[inner]
                if candidate.strip() == "" or candidate.lstrip().startswith("#"):
                    continue
                if not candidate.startswith((" ", "\t")):
                    break
                match = _BUNDLE_LINE.match(candidate)
                if match:
                    return _unquote(match.group("value")), inner
    return None, -1


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def read_spec(path: Path) -> Tuple[str, bool]:
    """The spec's text and whether it is JSON (by extension, as the CLI decides)."""
    return path.read_text(encoding="utf-8"), path.suffix.lower() == ".json"


def spec_from_dict(spec: Dict[str, Any]) -> str:
    return json.dumps(spec)
