from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
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
