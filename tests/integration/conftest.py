"""tests/integration/: the tests that need the real PostgreSQL and Redis (multi-process
concurrency, the production process layout, outages). Each is marked ``services`` here, so
``make test`` (``-m "not services"``) leaves them out and ``make test-services`` runs them."""

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.services)
