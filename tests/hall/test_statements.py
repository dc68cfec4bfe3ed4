"""hall.statements: a hot-path read compiled once gives what the ORM gives, on every run."""

import pytest
from django.db import connection

from hall.models import BusinessType
from hall.statements import PLACEHOLDER_ID, PLACEHOLDER_TEXT, Statement

pytestmark = pytest.mark.django_db


def _by_code(*, hall_id, code):
    return BusinessType.objects.filter(hall_id=hall_id, code=code).select_related("hall")[:1]


def test_a_statement_gives_the_orms_instances_with_new_values_each_run(hall):
    statement = Statement(_by_code, hall_id=PLACEHOLDER_ID, code=PLACEHOLDER_TEXT)
    for code in ("payment", "cards", "payment", "nothing"):
        got = statement.first(hall_id=hall.pk, code=code)
        expected = _by_code(hall_id=hall.pk, code=code).first()
        assert got == expected
        if expected is not None:
            assert got.name_zh == expected.name_zh
            assert type(got).hall.is_cached(got) and got.hall.code == hall.code  # select_related
    if connection.vendor == "postgresql":
        assert statement._compiled is not None  # compiled once, then reused


@pytest.mark.skipif(connection.vendor != "postgresql", reason="compiled on PostgreSQL only")
def test_a_placeholder_the_sql_does_not_carry_is_refused(hall):
    def drops_code(*, hall_id, code):
        return BusinessType.objects.filter(hall_id=hall_id)

    statement = Statement(drops_code, hall_id=PLACEHOLDER_ID, code=PLACEHOLDER_TEXT)
    with pytest.raises(ValueError, match="code"):
        statement.rows(hall_id=hall.pk, code="payment")
