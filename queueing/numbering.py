"""Ticket numbers: prefix + sequence per hall, prefix and the hall's local service date.

One UPSERT ... RETURNING takes the next value. On PostgreSQL the row lock it takes serialises
concurrent issues of one prefix until their transactions end; on SQLite the IMMEDIATE
transaction already holds the write lock. Either way no two tickets share a number, and the
unique constraint on Ticket is the last guard.
"""

import datetime

from django.db import connection

from queueing.models import TicketSequence

NUMBER_WIDTH = 3  # A001; past 999 the number simply grows (A1000)


def next_sequence(*, hall_id: int, prefix: str, service_date: datetime.date) -> int:
    table = connection.ops.quote_name(TicketSequence._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (hall_id, prefix, service_date, last_value) "  # noqa: S608
            "VALUES (%s, %s, %s, 1) "
            "ON CONFLICT (hall_id, prefix, service_date) "
            f"DO UPDATE SET last_value = {table}.last_value + 1 "
            "RETURNING last_value",
            [hall_id, prefix, service_date],
        )
        return cursor.fetchone()[0]


def format_number(prefix: str, sequence: int) -> str:
    return f"{prefix}{sequence:0{NUMBER_WIDTH}d}"
