"""The import floors of docs/architecture.md: no module of tfstylegan imports from a higher floor."""

import ast
import pathlib

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "tfstylegan"

# Lowest first; each name is a top-level module or package of tfstylegan.
FLOORS = [
    {"ops", "images", "noise", "resolution", "paths", "atomic", "progress", "optim", "schedule", "video_writer",
     "_lazy"},
    {"layers", "networks", "losses"},
    {"legacy", "data"},
    {"generation", "rendering", "export"},
    {"figures", "metrics", "projection", "projection_files", "editing", "video"},
    {"training", "loading"},
    {"cli", "calc_metrics", "convert", "dataset_tool", "generate", "__init__"},
]


def _unit(path: pathlib.Path) -> str:
    """The top-level module or package a file belongs to: ``training/steps.py`` -> ``training``."""
    return path.relative_to(PACKAGE).with_suffix("").parts[0]


def _is_main_block(node: ast.AST) -> bool:
    """``if __name__ == "__main__":`` (a ``python -m`` entry point, which may call a tool)."""
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and isinstance(test, ast.Compare) and getattr(test.left, "id", None) == "__name__"


def _imported_units(tree: ast.AST) -> set[str]:
    """The tfstylegan modules and packages a file imports, at any depth outside ``__main__`` blocks."""
    units, todo = set(), [tree]
    while todo:
        node = todo.pop()
        if _is_main_block(node):
            continue
        todo.extend(ast.iter_child_nodes(node))
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [f"{node.module}.{alias.name}" for alias in node.names] if node.module == "tfstylegan" else [node.module]
        units |= {name.split(".")[1] for name in names if name.startswith("tfstylegan.")}
    return units


def test_every_module_has_a_floor():
    units = {_unit(path) for path in PACKAGE.rglob("*.py")}
    placed = [unit for floor in FLOORS for unit in floor]
    assert sorted(placed) == sorted(set(placed)), "a module on two floors"
    assert units - set(placed) == set(), "place new modules on a floor here and in docs/architecture.md"
    assert set(placed) - units == set()


def test_no_module_imports_from_a_higher_floor():
    floor_of = {unit: level for level, floor in enumerate(FLOORS) for unit in floor}
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        src = _unit(path)
        for dst in _imported_units(ast.parse(path.read_text(encoding="utf-8"))) - {src}:
            if floor_of[dst] > floor_of[src]:
                upward.append(f"{path.relative_to(PACKAGE)} imports {dst}")
    assert upward == []
