from django.db import migrations, models
import django.db.models.deletion


class Migration(migrations.Migration):
    dependencies = [
        ("scans", "0004_job_path_key"),
    ]

    operations = [
        # Renamed, not dropped and added: the stored counts and reasons are kept.
        migrations.RenameField(model_name="job", old_name="errors", new_name="error_count"),
        migrations.RenameField(model_name="job", old_name="error", new_name="failure_reason"),
        migrations.AlterField(
            model_name="scanerror",
            name="job",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="file_errors",
                to="scans.job",
            ),
        ),
    ]
