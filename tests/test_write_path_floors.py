"""The services reach the live side only through hall's event hook (hall/events.py): no module
of the apps below display imports it, at module level or inside a function."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BELOW_DISPLAY = ("hall", "queueing", "counters", "recovery")


def _display_imports(path: Path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "display":
            yield node.module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "display":
                    yield alias.name


def test_no_app_below_display_imports_it():
    found = set()
    for app in BELOW_DISPLAY:
        for path in (ROOT / app).rglob("*.py"):
            for module in _display_imports(path):
                found.add((str(path.relative_to(ROOT)), module))
    assert sorted(found) == []


def test_display_registers_its_publisher_on_the_hook():
    from display.publisher import event_publish, hall_reset_publish
    from hall import events

    assert event_publish in events._subscribers
    assert hall_reset_publish in events._reset_subscribers
