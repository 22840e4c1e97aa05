from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from encrypted_fields.fields import EncryptedTextField


class ApiToken(models.Model):
    """A credential an integration sends as ``Authorization: Bearer <token>``.

    Only a SHA-256 digest of the token is stored, so a database leak does not leak working
    credentials; the token is shown once, when issued. The digest needs no salt or slow
    hash because the secret part is 256 random bits, not a password. A token acts as its
    user, with that user's scope; a read-only token may only read. Revoking keeps the row
    for the audit trail.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    name = models.CharField(_("name"), max_length=100, help_text=_("What uses this token."))
    prefix = models.CharField(_("prefix"), max_length=16, unique=True, editable=False)
    digest = models.CharField(_("digest"), max_length=64, editable=False)
    read_only = models.BooleanField(_("read-only"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} (mat_{self.prefix}_…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyKey(models.Model):
    """A POST to the API sent with an ``Idempotency-Key`` header, and the answer it got.

    The same key from the same caller (``scope``: a digest of its token, or of its session)
    within ``IDEMPOTENCY_KEY_DAYS`` gets that answer again without the work being done
    twice; with another body it gets 422. The row is written before the work and completed
    in the work's own transaction, so an answer is kept exactly when the work committed.
    """

    scope = models.CharField(_("caller"), max_length=64)
    key = models.CharField(_("key"), max_length=255)
    fingerprint = models.CharField(_("request digest"), max_length=64)
    created_at = models.DateTimeField(_("created at"))
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    status_code = models.PositiveSmallIntegerField(_("status"), null=True, blank=True)
    headers = models.JSONField(_("headers"), default=dict, blank=True)
    body = models.BinaryField(_("body"), default=b"", blank=True)
    # The body instead, encrypted as the webhook secrets are, when the answer carries a
    # secret shown once (api.idempotency.sealed): kept for its replay, unreadable in a copy
    # of the database.
    sealed_body = EncryptedTextField(_("body, encrypted"), blank=True, null=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotency_key_once")
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_key_age")]

    def __str__(self) -> str:
        return self.key
