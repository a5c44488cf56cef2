"""Video rows looked up by long lists of values, as plain tuples, in plain SQL.

A moved folder asks for tens of thousands of rows by path key, id or size. The ORM compiles an
`__in` list of 500 values in about 1.5 ms, as long as SQLite takes to answer it; these queries
skip the compiling and the per-row converters, and read only the columns asked for.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from django.db import connection

from stoat.library.models import Video

# Values per IN (...) list: far under SQLite's limit on parameters, and plans stay simple.
CHUNK = 500


def quote(name: str) -> str:
    return connection.ops.quote_name(name)


def select_in(
    columns: Sequence[str],
    column: str,
    values: Sequence[Any],
    where: str = "",
    for_update: bool = False,
) -> Iterator[tuple[Any, ...]]:
    """The `columns` of each video whose `column` is one of `values`; `where` is a further
    condition in SQL (no parameters), `for_update` locks the rows where the database can."""
    if not values:
        return
    table = quote(Video._meta.db_table)
    picked = ", ".join(quote(name) for name in columns)
    extra = f" AND ({where})" if where else ""
    lock = " FOR UPDATE" if for_update and connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        for start in range(0, len(values), CHUNK):
            chunk = values[start : start + CHUNK]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"SELECT {picked} FROM {table} WHERE {quote(column)} IN ({marks}){extra}{lock}",
                list(chunk),
            )
            yield from cursor.fetchall()
