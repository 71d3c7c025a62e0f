"""The README quotes the committed results (``paper/results/``) and nothing else: its
figure block is what ``paper/figures.py`` computes from those files."""

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "paper"))

from figures import BEGIN, END, key_figures, readme_block, readme_with  # noqa: E402


def test_readme_figures_match_the_committed_results():
    block = readme_block(key_figures(ROOT / "paper" / "results"))
    assert block in (ROOT / "README.md").read_text(), (
        "README.md's figures differ from paper/results/: run python paper/figures.py "
        "--write-readme")


def test_figures_are_read_from_the_files(tmp_path):
    (tmp_path / "machine.json").write_text(json.dumps({"cpu": "X", "cores": 2,
                                                        "commit": "abc1234"}))
    pd.DataFrame({"method": ["search", "milp"], "size": ["medium", "medium"],
                  "instances": [4, 4], "at_reference": [0.5, 1.0],
                  "mean_gap": [0.0125, 0.0], "worst_gap": [0.03, 0.0],
                  "mean_certified_gap": [0.02, 0.0], "feasible": [1.0, 1.0],
                  "mean_seconds": [0.5, 2.0]}).to_csv(tmp_path / "summary.csv", index=False)
    (tmp_path / "highs").mkdir()
    pd.DataFrame({"size": ["all", "all", "all", "<= 100"], "method": ["highspy", "search",
                                                                      "search", "search"],
                  "batch": [1, 4, 2, 4], "instances": [4, 4, 2, 1],
                  "instances_per_s": [2.0, 5.0, 9.0, 1.0], "mean_gap_pct": [0.0, 0.5, 0.1, 0],
                  "worst_gap_pct": [0.0, 1.0, 0.2, 0], "seconds": [2.0, 0.8, 0.2, 1],
                  "compile_seconds": [0.0, 3.0, 3.0, 3]}).to_csv(tmp_path / "highs/throughput.csv",
                                                                 index=False)
    figures = key_figures(tmp_path)
    assert figures["commit"] == "abc1234" and not figures["full"]
    assert figures["speed_vs_highs"]["search"]["ratio"] == pytest.approx(2.5)
    assert figures["speed_vs_highs"]["search"]["mean_gap"] == pytest.approx(0.005)
    block = readme_block(figures)
    assert "| medium | `search` | 4 | 50 % | 1.25 % | 3.00 % | 2.00 % | 0.5 |" in block
    assert "`search` 2.5×" in block
    text = f"intro\n{BEGIN}\nold\n{END}\ntail\n"
    assert readme_with(block, text) == f"intro\n{block}\ntail\n"
