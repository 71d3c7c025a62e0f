"""Execute every notebook of this folder (jupytext percent ``.py`` files) with nbclient.

    MOQLAB_SMALL=1 python notebooks/execute.py             # what CI runs (small sizes)
    python notebooks/execute.py --out build/notebooks      # also keep the executed .ipynb

The notebooks are stored as jupytext "percent" scripts so that they review as code, with no
outputs in git; open them in JupyterLab with jupytext installed (``pip install -e
".[notebooks]"``), or convert one with ``jupytext --to ipynb notebooks/01_quickstart.py``.
``MOQLAB_SMALL=1`` asks each notebook for its small sizes (CI keeps all of them under a few
minutes). Exits non-zero when any cell of any notebook raises.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def notebooks(names=None) -> list[Path]:
    """The notebooks, in their numbered order (``NN_name.py``)."""
    paths = sorted(HERE.glob("[0-9][0-9]_*.py"))
    return [p for p in paths if not names or p.stem in names or p.name in names]


def execute(path: Path, out: Path | None = None, timeout: int = 600) -> float:
    """Run one notebook top to bottom in a fresh kernel; returns its wall seconds."""
    import jupytext
    import nbformat
    from nbclient import NotebookClient

    notebook = jupytext.read(path)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(HERE)}})
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, out / f"{path.stem}.ipynb")
    return seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="notebooks to run (default: all)")
    parser.add_argument("--out", type=Path, help="write executed .ipynb files here")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    args = parser.parse_args(argv)
    failed = []
    total = time.perf_counter()
    for path in notebooks(args.names):
        try:
            seconds = execute(path, args.out, args.timeout)
            print(f"ok     {path.name}  {seconds:.1f}s", flush=True)
        except Exception as exc:  # report every notebook, then fail
            failed.append(path.name)
            print(f"FAILED {path.name}: {type(exc).__name__}: {str(exc)[-3000:]}", flush=True)
    print(f"notebooks took {time.perf_counter() - total:.1f}s")
    print(f"notebooks: {len(notebooks(args.names)) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
