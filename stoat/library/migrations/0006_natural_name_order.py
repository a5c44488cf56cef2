from django.db import migrations, models

from stoat.library.models import name_key


def fill_name_order(apps, schema_editor):
    """Videos stored before this migration get their key, a thousand rows at a time."""
    Video = apps.get_model("library", "Video")
    rows = Video.objects.only("pk", "filename").order_by("pk")
    batch = []
    for video in rows.iterator(chunk_size=1000):
        video.name_order = name_key(video.filename)
        batch.append(video)
        if len(batch) == 1000:
            Video.objects.bulk_update(batch, ["name_order"])
            batch.clear()
    Video.objects.bulk_update(batch, ["name_order"])


class Migration(migrations.Migration):

    dependencies = [
        ('library', '0005_facet_columns'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='video',
            options={'ordering': ['name_order', 'id']},
        ),
        migrations.RemoveIndex(
            model_name='video',
            name='video_present_name_order',
        ),
        migrations.AddField(
            model_name='video',
            name='name_order',
            field=models.CharField(default='', editable=False, max_length=255),
        ),
        migrations.RunPython(fill_name_order, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name='video',
            index=models.Index(condition=models.Q(('missing', False)), fields=['name_order', 'id'], name='video_present_name_order'),
        ),
        migrations.AddIndex(
            model_name='video',
            index=models.Index(fields=['name_order', 'id'], name='video_name_order'),
        ),
    ]
