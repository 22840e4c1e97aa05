from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """What a person does in the product; decides what they may see and change."""

    ACCOUNT_MANAGER = "account_manager", _("Account manager")
    DIRECTOR = "director", _("Director")
    ADMINISTRATOR = "administrator", _("Administrator")


class User(AbstractUser):
    """A person who signs in: an account manager, a director or an administrator.

    Integrations act as a user too, through an :class:`api.models.ApiToken` that belongs
    to one, so everything an integration does is scoped exactly like that user.
    """

    role = models.CharField(
        _("role"), max_length=20, choices=Role.choices, default=Role.ACCOUNT_MANAGER
    )
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_("The interface language; empty follows the browser."),
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["first_name", "last_name", "username"]

    @property
    def is_account_manager(self) -> bool:
        return self.role == Role.ACCOUNT_MANAGER

    @property
    def is_director(self) -> bool:
        return self.role == Role.DIRECTOR

    @property
    def is_administrator(self) -> bool:
        return self.role == Role.ADMINISTRATOR

    @property
    def sees_whole_portfolio(self) -> bool:
        """Directors and administrators see every client; account managers their own."""
        return self.role in {Role.DIRECTOR, Role.ADMINISTRATOR} or self.is_superuser

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class Session(AbstractBaseSession):
    """A browser's session: Django's database session, with the signed-in user's id in a
    column of its own, so the one read of the session brings the user's row too
    (``accounts.sessions``), and a user's sessions go with the user."""

    # A hint, not a constraint: the read uses it only when the signed data names the same
    # user. Deleting a user deletes their sessions (the ORM's cascade); a database
    # constraint would also make a session saved after its user's deletion fail at
    # commit, which Django's store reads as "key taken" and retries without end.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
    )

    class Meta(AbstractBaseSession.Meta):
        db_table = "accounts_session"

    @classmethod
    def get_session_store_class(cls) -> type:
        from .sessions import SessionStore

        return SessionStore


class SecurityEventKind(models.TextChoices):
    LOGIN = "login", _("Signed in")
    LOGIN_FAILED = "login_failed", _("Sign-in refused")
    LOCKED_OUT = "locked_out", _("Locked out")
    LOGOUT = "logout", _("Signed out")
    TOKEN_ISSUED = "token_issued", _("API token issued")
    TOKEN_REVOKED = "token_revoked", _("API token revoked")
    TOKEN_REFUSED = "token_refused", _("API token refused")
    PERMISSION_DENIED = "permission_denied", _("Permission denied")
    EXPORT = "export", _("Data exported")
    ERASURE = "erasure", _("Personal data erased")
    MFA_ENABLED = "mfa_enabled", _("Two-factor turned on")
    MFA_DISABLED = "mfa_disabled", _("Two-factor turned off")
    MFA_REFUSED = "mfa_refused", _("Two-factor code refused")
    RECOVERY_CODE_USED = "recovery_code_used", _("Recovery code used")


class SecurityEvent(models.Model):
    """Something a security review asks about afterwards: who signed in or failed to, who
    was locked out, which tokens were issued or revoked, who was refused a page, who
    exported or erased data. Written by accounts.services.security_event_record; read by
    directors on the security log page (and exported there as JSON lines).

    ``username`` is what was typed (a failed sign-in may name no one who exists) or the
    user's name at the time; ``user`` is kept only while the user exists."""

    at = models.DateTimeField(_("when"), default=timezone.now)
    kind = models.CharField(_("event"), max_length=30, choices=SecurityEventKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # security_event_user leads with it
    )
    username = models.CharField(_("username"), max_length=150, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    path = models.CharField(_("path"), max_length=300, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        verbose_name = _("security event")
        verbose_name_plural = _("security events")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["-at", "-id"], name="security_event_recent"),
            models.Index(fields=["kind", "-at"], name="security_event_kind"),
            models.Index(fields=["user", "-at"], name="security_event_user"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.username or '—'} · {self.at:%Y-%m-%d %H:%M}"
