"""Read statements of the hot paths, compiled to SQL by Django once per process.

Building a queryset with subqueries and compiling it costs more CPU than PostgreSQL takes to run
it: the issue's read of its business type (people ahead, counters serving it, a fault suspending
it) took about 7 ms of web CPU to build and compile and 0.3 ms to run
(deploy/bench/results/http.md). A ``Statement`` builds its queryset once, with placeholder
values, keeps its compiler (the SQL, which parameter each placeholder became, the columns'
converters and how rows become instances) and then runs that SQL with the real values, turning
the rows into model instances as Django's own ``ModelIterable`` does: the same SQL, the same
instances, with their ``select_related`` rows and annotations.

For model querysets (not ``values()``) whose placeholders reach the SQL as given. PostgreSQL
only: on the embedded SQLite values are adapted to text on the way, so there the queryset is
built and run as usual (one hall, no throughput target). Both paths run in the test suites
(``make test`` on SQLite, the services run on PostgreSQL).
"""

import datetime
import threading
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection
from django.db.models import QuerySet
from django.db.models.query import get_related_populators

# Values no real query holds, of the types the hot paths pass.
PLACEHOLDER_ID = -7_300_001
PLACEHOLDER_TEXT = "\ufffe placeholder \ufffe"
PLACEHOLDER_TIME = datetime.datetime(1901, 2, 3, 4, 5, 6, 789_012, tzinfo=datetime.UTC)


@dataclass(frozen=True)
class _Compiled:
    compiler: object  # the SQLCompiler after as_sql(): select, klass_info, converters
    db: str
    sql: str
    slots: tuple  # per parameter: the placeholder's name, or None for a constant
    constants: tuple
    init_list: list
    fields: slice  # the main model's columns in a row
    related_populators: list


class Statement:
    """``build(**values)`` returns the queryset; ``placeholders`` names a stand-in value for
    each keyword, distinct from every constant of the query (``PLACEHOLDER_*``)."""

    def __init__(self, build: Callable[..., QuerySet], **placeholders):
        self.build = build
        self.placeholders = placeholders
        self._compiled: _Compiled | None = None
        self._lock = threading.Lock()

    def _compile(self) -> _Compiled:
        with self._lock:
            if self._compiled is None:
                queryset = self.build(**self.placeholders)
                compiler = queryset.query.get_compiler(using=queryset.db)
                sql, params = compiler.as_sql()
                slots = tuple(self._slot(param) for param in params)
                missing = set(self.placeholders) - set(slots)
                if missing:  # a value the query adapts or drops: this statement cannot be kept
                    raise ValueError(f"placeholders not found in the SQL: {sorted(missing)}")
                select, klass_info = compiler.select, compiler.klass_info
                start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
                self._compiled = _Compiled(
                    compiler=compiler,
                    db=queryset.db,
                    sql=sql,
                    slots=slots,
                    constants=tuple(params),
                    init_list=[f[0].target.attname for f in select[start:end]],
                    fields=slice(start, end),
                    related_populators=get_related_populators(klass_info, select, queryset.db),
                )
        return self._compiled

    def _slot(self, param) -> str | None:
        for name, value in self.placeholders.items():
            if type(value) is type(param) and value == param:
                return name
        return None

    def rows(self, **values) -> list:
        if connection.vendor != "postgresql":
            return list(self.build(**values))
        compiled = self._compiled or self._compile()
        params = [
            values[slot] if slot is not None else constant
            for slot, constant in zip(compiled.slots, compiled.constants, strict=True)
        ]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        return [self._instance(compiled, row) for row in compiled.compiler.results_iter([rows])]

    @staticmethod
    def _instance(compiled: _Compiled, row):
        """A row as Django's ModelIterable makes it an instance (django/db/models/query.py)."""
        model = compiled.compiler.klass_info["model"]
        obj = model.from_db(compiled.db, compiled.init_list, row[compiled.fields])
        for populator in compiled.related_populators:
            populator.populate(row, obj)
        for name, position in compiled.compiler.annotation_col_map.items():
            setattr(obj, name, row[position])
        return obj

    def first(self, **values):
        """The first row (build the queryset with its ordering and a ``[:1]``), or None."""
        rows = self.rows(**values)
        return rows[0] if rows else None
