"""Row lookups whose SQL Django writes once per thread, not once per request.

Every progress poll loads its session, its user and its job by one unique key each. Writing
those three SELECTs (the ORM's compiler) took longer than running them and rendering the
answer together; this keeps what Django wrote and only binds the key.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import connections, router
from django.db.models import Field, Model

M = TypeVar("M", bound=Model)

# Stand for the key while Django writes the query; no row has them. The number fits every
# integer column: Django leaves out of the SQL a lookup that cannot match.
TEXT_MARKER = "\x00stoat-key"
NUMBER_MARKER = -7_301_337


@dataclass(frozen=True)
class Compiled:
    sql: str
    slots: int
    columns: list[str]
    converters: list[tuple[int, list[Callable[..., Any]], Any]]


class RowByKey(Generic[M]):
    """`model.objects.filter(field=key).first()` as the ORM would answer it, or None."""

    def __init__(self, model: type[M], field: str = "pk") -> None:
        target = model._meta.pk if field == "pk" else model._meta.get_field(field)
        if not isinstance(target, Field) or not target.unique:
            raise ValueError(f"{model.__name__}.{field} is not unique")
        self.model = model
        self.field = field
        self.target: Field[Any, Any] = target
        # Compilers and converters belong to one thread's connection.
        self.local = threading.local()

    def compiled(self, alias: str) -> Compiled:
        found: dict[str, Compiled] = self.local.__dict__.setdefault("by_alias", {})
        if alias not in found:
            found[alias] = self.compile(alias)
        return found[alias]

    def compile(self, alias: str) -> Compiled:
        is_number = self.target.get_internal_type().endswith(("AutoField", "IntegerField"))
        marker = NUMBER_MARKER if is_number else TEXT_MARKER
        query = self.model._default_manager.filter(**{self.field: marker}).query
        compiler = query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        if not params or any(param != marker for param in params):
            raise RuntimeError(f"unexpected parameters in {self.model.__name__}'s query: {params}")
        assert compiler.klass_info is not None
        columns = [col.target.attname for col, _, _ in compiler.select]
        converters = compiler.get_converters([col for col, _, _ in compiler.select])
        listed = [(position, convs, expr) for position, (convs, expr) in converters.items()]
        return Compiled(sql, len(params), columns, listed)

    def get(self, key: object) -> M | None:
        alias = router.db_for_read(self.model)
        connection = connections[alias]
        compiled = self.compiled(alias)
        value = self.target.get_db_prep_value(key, connection, prepared=False)
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, [value] * compiled.slots)
            row = cursor.fetchone()
        if row is None:
            return None
        values = list(row)
        for position, convs, expression in compiled.converters:
            for convert in convs:
                values[position] = convert(values[position], expression, connection)
        return self.model.from_db(alias, compiled.columns, values)
