"""The README's notebook example (section "Python client"), run as it stands in README.md: the code is
read from the file, not copied here, so the two cannot drift. It submits the scikit-learn example study,
waits with a tqdm bar, reads the report and runs, and plots each seed's accuracy with matplotlib (Agg:
no display; matplotlib is installed in the test virtualenv only, never a dependency of the package)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any, Dict

import matplotlib
import pytest

REPOSITORY = Path(__file__).resolve().parents[3]


def notebook_example() -> str:
    text = (REPOSITORY / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Python client\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 1, f"expected one python block in the README's Python client section, found {len(blocks)}"
    return str(blocks[0])


def test_readme_notebook_example(
    monkeypatch: pytest.MonkeyPatch, coordinator_url: str, accounts: Dict[str, str], capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.close("all")
    monkeypatch.setenv("REPRO_COORDINATOR", coordinator_url)
    monkeypatch.setenv("REPRO_KEY", accounts["researcher"])
    # The example's spec path is relative to the repository, where a reader runs it from.
    monkeypatch.chdir(REPOSITORY)
    namespace: Dict[str, Any] = {"__name__": "readme_example"}
    with warnings.catch_warnings():
        # plt.show() on the Agg backend says it cannot show anything; that is all it does.
        warnings.filterwarnings("ignore", message=".*non-interactive.*")
        exec(compile(notebook_example(), "README.md (Python client example)", "exec"), namespace)

    study = namespace["study"]
    assert study.status()["state"] == "completed"
    assert "4/4" in capsys.readouterr().err, "wait() drew no progress bar"
    assert namespace["report"]["accepted_runs"] == 4
    accepted = namespace["accepted"]
    assert sorted(accepted["dataset"]) == ["digits", "digits", "wine", "wine"]
    assert all(0.5 < accuracy <= 1.0 for accuracy in accepted["metrics.accuracy"]), list(accepted["metrics.accuracy"])

    # The plot: one scatter per dataset with a point per seed, axes labelled, a legend of the datasets.
    figure = plt.gcf()
    axes = figure.axes[0]
    points = {collection.get_label(): collection.get_offsets() for collection in axes.collections}
    assert sorted(points) == ["digits", "wine"]
    for dataset, offsets in points.items():
        assert sorted(float(x) for x, _ in offsets) == [0.0, 1.0], dataset
        expected = accepted[accepted["dataset"] == dataset].sort_values("seed")["metrics.accuracy"]
        assert [float(y) for _, y in sorted(offsets.tolist())] == pytest.approx(list(expected))
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("seed", "accuracy")
    legend = axes.get_legend()
    assert legend is not None and sorted(text.get_text() for text in legend.get_texts()) == ["digits", "wine"]
    image = tmp_path / "seeds.png"
    figure.savefig(image)
    assert image.stat().st_size > 0
    plt.close("all")
