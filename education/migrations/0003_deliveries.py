# E-mail state moves from five columns on the notification to a delivery row per channel;
# rows already written keep their state, attempts and errors (those without an address,
# "skipped", get no e-mail delivery). Reversible: the e-mail delivery is copied back.

import django.db.models.deletion
from django.db import migrations, models


COPY_FORWARD = """
INSERT INTO education_delivery
       (notification_id, channel, state, attempts, next_attempt_at, sent_at, last_error)
SELECT id, 'email', email_state, attempts, next_attempt_at, sent_at, last_error
  FROM education_notification
 WHERE email_state <> 'skipped'
"""

COPY_BACK = """
UPDATE education_notification
   SET email_state = COALESCE((SELECT d.state FROM education_delivery d
                                WHERE d.notification_id = education_notification.id
                                  AND d.channel = 'email'), 'skipped'),
       attempts = COALESCE((SELECT d.attempts FROM education_delivery d
                             WHERE d.notification_id = education_notification.id
                               AND d.channel = 'email'), 0),
       next_attempt_at = (SELECT d.next_attempt_at FROM education_delivery d
                           WHERE d.notification_id = education_notification.id
                             AND d.channel = 'email'),
       sent_at = (SELECT d.sent_at FROM education_delivery d
                   WHERE d.notification_id = education_notification.id
                     AND d.channel = 'email'),
       last_error = COALESCE((SELECT d.last_error FROM education_delivery d
                               WHERE d.notification_id = education_notification.id
                                 AND d.channel = 'email'), '')
"""


class Migration(migrations.Migration):

    dependencies = [
        ('education', '0002_plan_outbox'),
    ]

    operations = [
        migrations.CreateModel(
            name='Delivery',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('channel', models.CharField(max_length=20, verbose_name='channel')),
                ('state', models.CharField(choices=[('pending', 'Waiting to be sent'), ('sent', 'Sent'), ('failed', 'Gave up')], default='pending', max_length=10, verbose_name='state')),
                ('attempts', models.PositiveSmallIntegerField(default=0, verbose_name='attempts')),
                ('next_attempt_at', models.DateTimeField(blank=True, null=True, verbose_name='next attempt')),
                ('sent_at', models.DateTimeField(blank=True, null=True, verbose_name='sent at')),
                ('last_error', models.CharField(blank=True, max_length=500, verbose_name='last error')),
            ],
            options={
                'verbose_name': 'delivery',
                'verbose_name_plural': 'deliveries',
                'ordering': ['notification_id', 'channel'],
            },
        ),
        migrations.AddField(
            model_name='delivery',
            name='notification',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='education.notification', verbose_name='notification'),
        ),
        migrations.RunSQL(COPY_FORWARD, COPY_BACK),
        migrations.RemoveIndex(
            model_name='notification',
            name='notification_outbox',
        ),
        migrations.RemoveField(
            model_name='notification',
            name='attempts',
        ),
        migrations.RemoveField(
            model_name='notification',
            name='email_state',
        ),
        migrations.RemoveField(
            model_name='notification',
            name='last_error',
        ),
        migrations.RemoveField(
            model_name='notification',
            name='next_attempt_at',
        ),
        migrations.RemoveField(
            model_name='notification',
            name='sent_at',
        ),
        migrations.AddIndex(
            model_name='delivery',
            index=models.Index(condition=models.Q(('state', 'pending')), fields=['next_attempt_at', 'id'], name='delivery_outbox'),
        ),
        migrations.AddConstraint(
            model_name='delivery',
            constraint=models.UniqueConstraint(fields=('notification', 'channel'), name='delivery_once_per_channel'),
        ),
    ]
