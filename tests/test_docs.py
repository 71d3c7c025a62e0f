"""docs/guide.md stays true to the code: its options block is what show_options prints, and
its method table names every method."""

import pathlib
import re

import moqlab
from moqlab._solve import METHODS

GUIDE = pathlib.Path(__file__).resolve().parents[1] / "docs" / "guide.md"


def test_options_block_matches_the_code():
    text = GUIDE.read_text()
    block = re.search(r"<!-- options:begin -->\n```\n(.*)\n```\n<!-- options:end -->", text,
                      flags=re.S)
    assert block is not None, "the options block markers are missing"
    assert block.group(1) == moqlab.show_options(disp=False), (
        "docs/guide.md's options block is stale: regenerate it from moqlab.show_options()")


def test_method_table_names_every_method():
    text = GUIDE.read_text()
    for method in [*METHODS, "auto"]:
        assert f"| `{method}` |" in text, method
