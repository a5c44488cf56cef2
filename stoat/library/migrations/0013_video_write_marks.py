# The database marks every write to library_video (stoat/library/summary.py): the whole library's
# aggregates are then kept until the videos change, without any writer having to say so.

from django.db import migrations

from stoat.library import summary


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0012_sqlite_month_index"),
    ]

    operations = [migrations.RunPython(summary.create_marks, summary.drop_marks)]
