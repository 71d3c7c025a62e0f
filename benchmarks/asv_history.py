"""Record asv results for past commits into the committed history
(``benchmarks/asv-results/``, asv's own format), so that ``asv publish`` draws the project's
speed and quality over its history and ``asv compare`` names regressions.

    .venv/bin/python benchmarks/asv_history.py 02ea359 35eef2f HEAD    # record these commits
    .venv/bin/asv publish && .venv/bin/asv preview                      # the dashboard

``asv.conf.json`` uses the ``existing`` environment (no per-commit builds), so each commit is
checked out into a temporary git worktree and asv runs that commit's benchmarks with that
commit's ``moqlab`` first on the path (``ASV_PYTHONPATH``), recording under the commit's
hash. ``MOQLAB_BENCH`` (default ``quick``: the smallest size class) chooses the cases; one
round and one repeat per timing keep a commit to a few minutes on two cores, so timings are
single samples (compare ratios, not digits). A commit whose results exist is skipped unless
``--force``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "asv.conf.json"


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()


def _config() -> dict:
    text = "\n".join(line for line in CONFIG.read_text().splitlines()
                     if not line.lstrip().startswith("//"))
    return json.loads(text)


def recorded(commit: str, results: Path) -> bool:
    """Whether some machine already holds results for this commit."""
    return any(results.glob(f"*/{commit[:8]}-*.json"))


def record(commit: str, force: bool = False) -> int:
    full = _git("rev-parse", commit)
    config = _config()
    results = ROOT / config["results_dir"]
    if recorded(full, results) and not force:
        print(f"{full[:8]}: recorded already (--force to redo)")
        return 0
    with tempfile.TemporaryDirectory(prefix="moqlab-asv-") as tmp:
        tree = Path(tmp) / "tree"
        _git("worktree", "add", "--detach", str(tree), full)
        try:
            config.update({"repo": str(ROOT), "benchmark_dir": str(tree / "benchmarks"),
                           "results_dir": str(results), "html_dir": str(ROOT / ".asv" / "html"),
                           "env_dir": str(ROOT / ".asv" / "env")})
            conf = Path(tmp) / "asv.conf.json"
            conf.write_text(json.dumps(config))
            env = dict(os.environ, ASV_PYTHONPATH=str(tree))
            env.setdefault("MOQLAB_BENCH", "quick")
            command = [sys.executable, "-m", "asv", "run", "--config", str(conf),
                       "--python=same", "--set-commit-hash", full,
                       "-a", "rounds=1", "-a", "repeat=1", "-a", "warmup_time=0"]
            print(f"{full[:8]}: {' '.join(command[2:])}", flush=True)
            return subprocess.run(command, cwd=tree, env=env).returncode
        finally:
            _git("worktree", "remove", "--force", str(tree))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("commits", nargs="+", help="commits to record (any git revision)")
    parser.add_argument("--force", action="store_true", help="record again")
    args = parser.parse_args(argv)
    failed = [c for c in args.commits if record(c, args.force)]
    if failed:
        print(f"asv failed on {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
