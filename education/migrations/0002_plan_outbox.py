"""Plans get their own sweep time: a plan whose Celery message could not be published is
built at the dispatcher's next tick instead of after the grace period; a build that
raises is counted and retried with backoff."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("education", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="educationplan",
            name="sweep_at",
            field=models.DateTimeField(null=True, verbose_name="built automatically after"),
        ),
        # Existing pending plans are overdue for the sweep already: their request time.
        migrations.RunSQL(
            "UPDATE education_educationplan SET sweep_at = requested_at",
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.AlterField(
            model_name="educationplan",
            name="sweep_at",
            field=models.DateTimeField(verbose_name="built automatically after"),
        ),
        migrations.AddField(
            model_name="educationplan",
            name="build_failures",
            field=models.PositiveIntegerField(default=0, verbose_name="failed builds"),
        ),
        migrations.AddField(
            model_name="educationplan",
            name="last_error",
            field=models.CharField(blank=True, max_length=500, verbose_name="last error"),
        ),
        migrations.RemoveIndex(model_name="educationplan", name="plan_pending"),
        migrations.AddIndex(
            model_name="educationplan",
            index=models.Index(
                condition=models.Q(("status", "pending")),
                fields=["sweep_at"],
                name="plan_pending_sweep",
            ),
        ),
    ]
