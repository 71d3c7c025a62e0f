"""The layers of ARCHITECTURE.md hold: no module imports a private name of another module,
no module imports a layer above its own, and imports have no circles."""

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "moqlab"
# rank of each layer: a module may import its own layer and the layers below it
LAYERS = {"core": 0, "heuristics": 1, "exact": 2, "relaxations": 3, "_solve": 4, "lab": 5,
          "faces": 6}


def _modules():
    return sorted(p for p in PACKAGE.rglob("*.py"))


def _name(path: pathlib.Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> int:
    parts = module.split(".")
    if len(parts) >= 2 and parts[1] in LAYERS:
        return LAYERS[parts[1]]
    return LAYERS["faces"]  # moqlab/__init__, cli, diff, generate


def _imports(path: pathlib.Path):
    """(target module, imported names) of every ``from ... import`` inside moqlab."""
    module = _name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target == "moqlab" or target.startswith("moqlab."):
                yield target, [alias.name for alias in node.names], node.lineno


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_private_names_and_no_upward_imports(path):
    module = _name(path)
    for target, names, line in _imports(path):
        private = [n for n in names if n.startswith("_") and not
                   (PACKAGE.parent / (target.replace(".", "/") + f"/{n}.py")).exists()]
        assert not private, f"{module}:{line} imports private {private} from {target}"
        if target.startswith(module + ".") or target == module:
            continue
        assert _layer(target) <= _layer(module), \
            f"{module}:{line} imports {target}, a layer above it"


def test_imports_have_no_circles():
    graph = {}
    for path in _modules():
        module = _name(path)
        graph[module] = set()
        for target, names, _ in _imports(path):
            for name in names:  # "from .x import y" may import the submodule y
                candidate = f"{target}.{name}"
                if (PACKAGE.parent / (candidate.replace(".", "/") + ".py")).exists():
                    graph[module].add(candidate)
            graph[module].add(target)
    done, stack = set(), []

    def visit(node):
        if node in stack:
            raise AssertionError("import circle: " + " -> ".join(stack[stack.index(node):] +
                                                                 [node]))
        if node in done:
            return
        stack.append(node)
        for nxt in graph.get(node, ()):
            # a package imports its own modules through its face: not a circle
            if nxt != node and not node.startswith(nxt + ".") and nxt in graph:
                visit(nxt)
        stack.pop()
        done.add(node)

    for node in graph:
        visit(node)


def test_every_subpackage_and_the_data_are_installed():
    # pyproject.toml lists the packages (datasets/ is mapped into moqlab.datasets): a new
    # subpackage left out of the list would be missing from a regular install
    import importlib.resources
    import tomllib

    import moqlab

    config = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["tool"]["setuptools"]
    on_disk = {_name(p) for p in PACKAGE.rglob("__init__.py")} | {"moqlab.datasets"}
    assert set(config["packages"]) == on_disk
    shipped = importlib.resources.files("moqlab.datasets")
    for relative in ("examples/order.csv", "suite/manifest.csv", "pisinger/README.md"):
        assert (shipped / relative).is_file()
        assert moqlab.dataset_path(relative).read_bytes() == (shipped / relative).read_bytes()
