"""Rows looked up, updated and inserted by long lists of values, as plain tuples, in plain SQL.

A moved folder asks for tens of thousands of rows by path key, id or size. The ORM compiles an
`__in` list of 500 values in about 1.5 ms, as long as SQLite takes to answer it; these queries
skip the compiling and the per-row converters, and read only the columns asked for. Its writes
go as one statement per chunk of rows on PostgreSQL (`update_by_id`, `insert_many`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from django.db import connection
from django.db.models import Field, Model

from stoat.library.models import Video

# Values per IN (...) list: far under SQLite's limit on parameters, and plans stay simple.
CHUNK = 500
# Values per array on PostgreSQL: one statement for a moved folder, bounded for a huge one.
ARRAY_CHUNK = 20_000


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
        if connection.vendor == "postgresql":
            # One array, one statement: PostgreSQL plans each 500-value IN list in about 10 ms.
            array = f"%s::{column_type(Video, column)}[]"
            for start in range(0, len(values), ARRAY_CHUNK):
                cursor.execute(
                    f"SELECT {picked} FROM {table} WHERE {quote(column)} = ANY({array})"
                    f"{extra}{lock}",
                    [list(values[start : start + ARRAY_CHUNK])],
                )
                yield from cursor.fetchall()
            return
        for start in range(0, len(values), CHUNK):
            chunk = values[start : start + CHUNK]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"SELECT {picked} FROM {table} WHERE {quote(column)} IN ({marks}){extra}{lock}",
                list(chunk),
            )
            yield from cursor.fetchall()


def column_type(model: type[Model], name: str) -> str:
    """The database's type of a model's column (by field name or attname)."""
    field = model._meta.get_field(name)
    db_type = field.db_type(connection) if isinstance(field, Field) else None
    if db_type is None:
        raise ValueError(f"{model.__name__}.{name} has no column")
    return db_type


def update_by_id(
    cursor: Any, model: type[Model], names: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Set the columns `names` of many rows of `model`, each row given as its values in that
    order and then its id.

    SQLite runs an executemany in this process at no cost per statement. PostgreSQL runs each
    of its statements on its own (parsed, planned, its statement trigger fired): for a moved
    folder's 10,000 rows that was twice the cost of the writes themselves, so the values go as
    one array per column, up to ARRAY_CHUNK rows a statement.
    """
    if not rows:
        return
    table = quote(model._meta.db_table)
    if connection.vendor != "postgresql":
        assignments = ", ".join(f"{quote(name)} = %s" for name in names)
        cursor.executemany(f"UPDATE {table} SET {assignments} WHERE id = %s", rows)
        return
    types = [column_type(model, name) for name in names]
    arrays = ", ".join(
        f"unnest(%s::{db_type}[]) AS c{n}" for n, db_type in enumerate([*types, "bigint"])
    )
    assignments = ", ".join(f"{quote(name)} = d.c{n}" for n, name in enumerate(names))
    sql = f"UPDATE {table} SET {assignments} FROM (SELECT {arrays}) AS d WHERE id = d.c{len(names)}"
    for start in range(0, len(rows), ARRAY_CHUNK):
        cursor.execute(
            sql, [list(column) for column in zip(*rows[start : start + ARRAY_CHUNK], strict=True)]
        )


def insert_many(
    cursor: Any, model: type[Model], names: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert many rows of `model`, each given as its values of the columns `names` (the same
    arrays per column as `update_by_id` on PostgreSQL)."""
    if not rows:
        return
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(name) for name in names)
    if connection.vendor != "postgresql":
        marks = ", ".join(["%s"] * len(names))
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)
        return
    arrays = ", ".join(f"unnest(%s::{column_type(model, name)}[])" for name in names)
    for start in range(0, len(rows), ARRAY_CHUNK):
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {arrays}",
            [list(column) for column in zip(*rows[start : start + ARRAY_CHUNK], strict=True)],
        )
