"""The floors (DESIGN.md): import-linter's layers contract (pyproject.toml, run by `make lint`)
holds the module-level imports; these tests hold what it cannot see: no app imports another
inside a function (the way cycles used to be dodged), and the apps stack as documented."""

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLOORS = ["hall", "queueing", "counters", "recovery", "display", "reports", "config"]


def _app_modules():
    for app in FLOORS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield app, path


def _imported(node) -> list[str]:
    if isinstance(node, ast.ImportFrom):
        return [node.module] if node.level == 0 and node.module else []
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    return []


def _imports_inside_functions(tree):
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(function):
                yield from ((node.lineno, module) for module in _imported(node))


def test_no_app_imports_another_inside_a_function():
    found = []
    for app, path in _app_modules():
        for line, module in _imports_inside_functions(ast.parse(path.read_text())):
            top = module.split(".")[0]
            if top in FLOORS and top != app:
                found.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert found == []


def test_the_layers_contract_states_the_floors_of_the_design():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (layers,) = [c for c in config["contracts"] if c["type"] == "layers"]
    assert layers["layers"] == list(reversed(FLOORS))
    assert layers["ignore_imports"] == ["queueing.** -> counters.models"]
    assert sorted(config["root_packages"]) == sorted(FLOORS)


def test_every_installed_app_of_ours_is_a_floor():
    from django.conf import settings

    ours = [app for app in settings.INSTALLED_APPS if (ROOT / app.split(".")[0]).is_dir()]
    assert ours == ["hall", "queueing", "counters", "recovery", "display", "reports", "config"]
