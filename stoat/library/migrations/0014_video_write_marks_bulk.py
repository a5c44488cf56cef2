# A writer of many video rows marks the library changed once instead of once a row (SQLite's
# triggers run per row): stoat/library/summary.py, one_mark.

from django.db import migrations

from stoat.library import summary


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0013_video_write_marks"),
    ]

    operations = [migrations.RunPython(summary.add_bulk_flag, migrations.RunPython.noop)]
