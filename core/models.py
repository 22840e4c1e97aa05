from django.db import models
from django.utils.translation import gettext_lazy as _


class Heartbeat(models.Model):
    """When a Celery worker last ran the periodic heartbeat, per source.

    Beat enqueues ``core.tasks.heartbeat`` every ``HEARTBEAT_SECONDS``; a worker records it
    here. The health check reads it to tell whether the broker, beat and a worker are all
    alive, which no single process can tell on its own.
    """

    source = models.CharField(_("source"), max_length=50, unique=True)
    beats = models.PositiveBigIntegerField(_("beats"), default=0)
    last_seen = models.DateTimeField(_("last seen"))

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self) -> str:
        return f"{self.source} @ {self.last_seen:%Y-%m-%d %H:%M:%S}"
