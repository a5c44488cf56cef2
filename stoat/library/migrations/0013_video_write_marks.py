# The database marks every write to library_video (stoat/library/summary.py): the whole library's
# aggregates are then kept until the videos change, without any writer having to say so.

from django.db import migrations

from stoat.library import summary


def run_for_vendor(statements):
    def run(apps, schema_editor):
        for statement in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0012_sqlite_month_index"),
    ]

    operations = [migrations.RunPython(run_for_vendor(summary.CREATE), run_for_vendor(summary.DROP))]
