# The SQLite indexes of 0010 made a filtered /stats/ read every row through them; these cover the
# filters' columns too, so a filtered grouping reads the index alone, and the missing files are
# found in an index that holds only them.

from django.db import migrations

FILTERED = "video_codec, audio_codec, container_kind, resolution_class, duration, created_at"
CREATE = [
    "DROP INDEX IF EXISTS video_present_folder_size",
    "DROP INDEX IF EXISTS video_present_added",
    f"CREATE INDEX IF NOT EXISTS video_present_folder_cover ON library_video "
    f"(folder, size, {FILTERED}) WHERE NOT missing",
    f"CREATE INDEX IF NOT EXISTS video_present_added_cover ON library_video "
    f"(created_at, size, {FILTERED.replace(', created_at', '')}) WHERE NOT missing",
    "CREATE INDEX IF NOT EXISTS video_missing_only ON library_video (id) WHERE missing",
]
DROP = [
    "DROP INDEX IF EXISTS video_present_folder_cover",
    "DROP INDEX IF EXISTS video_present_added_cover",
    "DROP INDEX IF EXISTS video_missing_only",
    "CREATE INDEX IF NOT EXISTS video_present_folder_size ON library_video (folder, size) "
    "WHERE NOT missing",
    "CREATE INDEX IF NOT EXISTS video_present_added ON library_video (created_at) "
    "WHERE NOT missing",
]


def on_sqlite(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0010_present_facets_index"),
    ]

    operations = [migrations.RunPython(on_sqlite(CREATE), on_sqlite(DROP))]
