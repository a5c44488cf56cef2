"""Aggregates over the whole library, kept in the cache until a video row changes.

The database marks every write to `library_video` itself, so no writer has to remember to: on
SQLite a trigger per row written gives the one row of `library_video_writes` a new random token;
on PostgreSQL a trigger per statement adds a row with a random token (and now and then removes
older ones, never waiting for a row another writer holds, so concurrent scans never queue on it).
The rows in view are the library's version. A scan's bulk writes, a move, a delete in the admin or
raw SQL all change it, in the same commit as the videos, and a rolled-back write takes its mark
back with it. An entry is stored under the version read before its aggregates, so it is never
newer than its data; while the triggers are missing (a table rebuilt by a later migration, until
`post_migrate` puts them back) nothing is cached.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import fields
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

T = TypeVar("T")
TABLE = "library_video_writes"
TRIGGER = "library_video_written"

# Each row's trigger is skipped while a writer of many rows holds `bulk` up (`one_mark`): a
# look-up of the one row costs a tenth of writing it, and a moved folder writes 10,000 rows.
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER IF NOT EXISTS {TRIGGER}_{event.lower()} AFTER {event} ON library_video "
    f"WHEN (SELECT bulk FROM {TABLE} WHERE id = 1) IS NOT 1 "
    f"BEGIN UPDATE {TABLE} SET token = random(); END"
    for event in ("INSERT", "UPDATE", "DELETE")
]
SQLITE_DROP_TRIGGERS = [
    f"DROP TRIGGER IF EXISTS {TRIGGER}_{e}" for e in ("insert", "update", "delete")
]
SQLITE_CREATE = [
    f"CREATE TABLE IF NOT EXISTS {TABLE} (id INTEGER PRIMARY KEY, token INTEGER NOT NULL,"
    " bulk INTEGER NOT NULL DEFAULT 0)",
    f"INSERT OR IGNORE INTO {TABLE} (id, token) VALUES (1, random())",
    *SQLITE_TRIGGERS,
]
SQLITE_DROP = [*SQLITE_DROP_TRIGGERS, f"DROP TABLE IF EXISTS {TABLE}"]

POSTGRES_TRIGGERS = [
    f"""
    CREATE OR REPLACE FUNCTION {TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        mark bigint;
    BEGIN
        INSERT INTO {TABLE} DEFAULT VALUES RETURNING id INTO mark;
        -- About one writing statement in 50 removes the older marks it can lock at once.
        IF random() < 0.02 THEN
            DELETE FROM {TABLE} WHERE id IN (
                SELECT id FROM {TABLE} WHERE id < mark FOR UPDATE SKIP LOCKED
            );
        END IF;
        RETURN NULL;
    END
    $$""",
    f"CREATE OR REPLACE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
    f"ON library_video FOR EACH STATEMENT EXECUTE FUNCTION {TRIGGER}()",
]
POSTGRES_CREATE = [
    f"CREATE TABLE IF NOT EXISTS {TABLE} (id bigserial PRIMARY KEY, "
    "token bigint NOT NULL DEFAULT (random() * 4503599627370496)::bigint)",
    f"INSERT INTO {TABLE} DEFAULT VALUES",
    *POSTGRES_TRIGGERS,
]
POSTGRES_DROP = [
    f"DROP TRIGGER IF EXISTS {TRIGGER} ON library_video",
    f"DROP FUNCTION IF EXISTS {TRIGGER}()",
    f"DROP TABLE IF EXISTS {TABLE}",
]
CREATE = {"sqlite": SQLITE_CREATE, "postgresql": POSTGRES_CREATE}
DROP = {"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}
TRIGGERS = {"sqlite": SQLITE_TRIGGERS, "postgresql": POSTGRES_TRIGGERS}

# The marks in view, and how many of the triggers that make them are in place.
VERSION = {
    "sqlite": f"""
        SELECT COUNT(*), COALESCE(SUM(token), 0), COALESCE(MAX(id), 0),
            (SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger'
                AND tbl_name = 'library_video' AND name LIKE '{TRIGGER}_%')
        FROM {TABLE}""",
    "postgresql": f"""
        SELECT COUNT(*), COALESCE(SUM(token), 0), COALESCE(MAX(id), 0),
            (SELECT COUNT(*) FROM pg_trigger WHERE tgrelid = 'library_video'::regclass
                AND tgname = '{TRIGGER}' AND tgenabled <> 'D')
        FROM {TABLE}""",
}
EXPECTED_TRIGGERS = {"sqlite": 3, "postgresql": 1}


def create_marks(apps: Any, schema_editor: BaseDatabaseSchemaEditor) -> None:
    """Migration 0013 forwards: the table of marks and the triggers that write it."""
    for statement in CREATE.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement)


def drop_marks(apps: Any, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for statement in DROP.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement)


def add_bulk_flag(apps: Any, schema_editor: BaseDatabaseSchemaEditor) -> None:
    """Migration 0014 forwards: SQLite's marks gain `bulk`, and its triggers the WHEN that
    reads it (a table made by 0013 from this module has both already)."""
    database = schema_editor.connection
    if database.vendor != "sqlite":
        return
    with database.cursor() as cursor:
        columns = [c.name for c in database.introspection.get_table_description(cursor, TABLE)]
    if "bulk" not in columns:
        schema_editor.execute(f"ALTER TABLE {TABLE} ADD COLUMN bulk INTEGER NOT NULL DEFAULT 0")
    for statement in [*SQLITE_DROP_TRIGGERS, *SQLITE_TRIGGERS]:
        schema_editor.execute(statement)


@contextmanager
def one_mark() -> Iterator[None]:
    """Inside a transaction: the videos written meanwhile are marked once, when it ends, instead
    of once a row (SQLite's triggers run per row; PostgreSQL's per statement already).

    Other connections never see `bulk` up: it is put down again in the same transaction, and a
    rollback takes both back."""
    if connection.vendor != "sqlite":
        yield
        return
    if not connection.in_atomic_block:
        raise RuntimeError("one_mark() needs a transaction: outside one, each write commits")
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET bulk = 1 WHERE id = 1")
        try:
            yield
        finally:
            cursor.execute(f"UPDATE {TABLE} SET bulk = 0, token = random() WHERE id = 1")


def ensure_triggers(database: BaseDatabaseWrapper) -> None:
    """Puts the write-marking triggers back if a rebuilt table lost them (SQLite rebuilds a
    table to alter it, and its triggers go with the old one)."""
    if database.vendor not in TRIGGERS or TABLE not in database.introspection.table_names():
        return
    with database.cursor() as cursor:
        for statement in TRIGGERS[database.vendor]:
            cursor.execute(statement)


def library_version() -> str | None:
    """What identifies the videos' current contents; None when writes are not being marked."""
    if connection.vendor not in VERSION:
        return None
    with connection.cursor() as cursor:
        cursor.execute(VERSION[connection.vendor])
        marks, tokens, last, triggers = cursor.fetchone()
    if marks == 0 or triggers != EXPECTED_TRIGGERS[connection.vendor]:
        return None
    return f"{marks}:{tokens}:{last}"


def cache_key(name: str) -> str:
    where = connection.settings_dict
    database = f"{connection.vendor}:{where.get('HOST')}:{where.get('PORT')}:{where['NAME']}"
    return f"library-summary:{name}:{hashlib.sha256(database.encode()).hexdigest()[:16]}"


def shape(*classes: type) -> str:
    """A short tag of these dataclasses' fields: part of a key, so entries written by a stoat
    whose classes had other fields are never read back."""
    names = repr([(c.__qualname__, [f.name for f in fields(c)]) for c in classes])
    return hashlib.sha256(names.encode()).hexdigest()[:8]


def cached(name: str, compute: Callable[[], T]) -> T:
    """`compute()`, or what it gave while the videos were as they are now."""
    version = library_version()
    if version is None:
        return compute()
    key = cache_key(name)
    try:
        entry: Any = cache.get(key)
    except (AttributeError, ImportError, TypeError, ValueError, EOFError, pickle.PickleError):
        entry = None  # written by another version of stoat (a shared Redis outlives a deploy)
    if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == version:
        value: T = entry[1]
        return value
    value = compute()
    cache.set(key, (version, value), timeout=None)
    return value
