"""pandas is optional: imported only when a frame is asked for."""

from __future__ import annotations

from typing import Any, Dict, List

from .errors import ReproGridError


def to_frame(rows: List[Dict[str, Any]]) -> Any:
    try:
        import pandas
    except ImportError as error:
        raise ReproGridError("as_frame=True needs pandas: pip install 'reprogrid[pandas]'") from error
    return pandas.json_normalize(rows) if rows else pandas.DataFrame()
