# SQLite only: /stats/ groups present videos by the month they were added (SUBSTR of the stored
# text, stats.MonthText). An index on that very expression hands the groups over in order, where
# the index on created_at left SQLite sorting 100,000 months in a temporary B-tree. The filters'
# columns are in it too, so a filtered grouping reads the index alone.

from django.db import migrations

CREATE = [
    "CREATE INDEX IF NOT EXISTS video_present_month ON library_video "
    "(SUBSTR(created_at, 1, 7), video_codec, audio_codec, container_kind, resolution_class, "
    "duration, size) WHERE NOT missing",
]
DROP = ["DROP INDEX IF EXISTS video_present_month"]


def on_sqlite(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0011_sqlite_stats_indexes"),
    ]

    operations = [migrations.RunPython(on_sqlite(CREATE), on_sqlite(DROP))]
