"""Logging in and out, changing password and language, and the role helpers."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse

from accounts.access import has_role, role_required, user_has_role
from accounts.models import Role
from tests.factories import PASSWORD, AccountManagerFactory, AdministratorFactory, DirectorFactory

pytestmark = pytest.mark.django_db


def test_the_login_page_is_served_to_anonymous_users(client):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    assert b'name="username"' in response.content


def test_anonymous_users_are_sent_to_the_login_page(client):
    response = client.get(reverse("web:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_a_user_logs_in_with_the_right_password(client):
    user = AccountManagerFactory()
    response = client.post(
        reverse("accounts:login"), {"username": user.username, "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("web:home")
    assert response.context["user"] == user


def test_a_wrong_password_is_refused_with_a_message_and_keeps_the_username(client):
    user = AccountManagerFactory()
    response = client.post(
        reverse("accounts:login"), {"username": user.username, "password": "nope"}
    )
    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()
    assert f'value="{user.username}"' in response.content.decode()


def test_logout_is_a_post(client):
    client.force_login(AccountManagerFactory())
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert client.get(reverse("web:home")).status_code == 302


def test_password_change_needs_the_old_password(client):
    user = AccountManagerFactory()
    client.force_login(user)
    url = reverse("accounts:password_change")
    bad = client.post(
        url,
        {
            "old_password": "wrong",
            "new_password1": "N3w-pass-phrase!",
            "new_password2": "N3w-pass-phrase!",
        },
    )
    assert bad.status_code == 200
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    good = client.post(
        url,
        {
            "old_password": PASSWORD,
            "new_password1": "N3w-pass-phrase!",
            "new_password2": "N3w-pass-phrase!",
        },
    )
    assert good.status_code == 302
    user.refresh_from_db()
    assert user.check_password("N3w-pass-phrase!")


def test_switching_language_is_remembered_on_the_user(client):
    user = AccountManagerFactory()
    client.force_login(user)
    response = client.post(
        reverse("accounts:set_language"), {"language": "pt-br", "next": "/clients/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/clients/"
    user.refresh_from_db()
    assert user.language == "pt-br"
    # A new session (another device) still gets Portuguese, whatever the browser says.
    other = client.__class__()
    other.force_login(user)
    page = other.get(reverse("web:home"), HTTP_ACCEPT_LANGUAGE="es")
    assert page.headers["Content-Language"] == "pt-br"


def test_the_language_switch_does_not_redirect_off_site(client):
    response = client.post(
        reverse("accounts:set_language"), {"language": "es", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_an_unknown_language_is_ignored(client):
    user = AccountManagerFactory()
    client.force_login(user)
    client.post(reverse("accounts:set_language"), {"language": "klingon"})
    user.refresh_from_db()
    assert user.language == ""


class TestRoleHelpers:
    def test_a_user_has_only_their_own_role(self):
        manager = AccountManagerFactory.build()
        assert user_has_role(manager, [Role.ACCOUNT_MANAGER])
        assert not user_has_role(manager, [Role.DIRECTOR, Role.ADMINISTRATOR])

    def test_inactive_users_have_no_role(self):
        assert not user_has_role(DirectorFactory.build(is_active=False), [Role.DIRECTOR])

    def test_superusers_count_as_administrators(self):
        assert user_has_role(AccountManagerFactory.build(is_superuser=True), [Role.ADMINISTRATOR])

    def test_directors_and_administrators_see_the_whole_portfolio(self):
        assert DirectorFactory.build().sees_whole_portfolio
        assert AdministratorFactory.build().sees_whole_portfolio
        assert not AccountManagerFactory.build().sees_whole_portfolio

    def test_role_required_refuses_the_wrong_role(self):
        view = role_required(Role.DIRECTOR)(lambda request: HttpResponse("ok"))
        request = RequestFactory().get("/x/")
        request.user = AccountManagerFactory.build()
        with pytest.raises(PermissionDenied):
            view(request)
        request.user = DirectorFactory.build()
        assert view(request).content == b"ok"

    def test_role_required_sends_anonymous_users_to_login(self):
        from django.contrib.auth.models import AnonymousUser

        view = role_required(Role.DIRECTOR)(lambda request: HttpResponse("ok"))
        request = RequestFactory().get("/x/")
        request.user = AnonymousUser()
        response = view(request)
        assert response.status_code == 302
        assert "/accounts/login/?next=/x/" in response["Location"]

    def test_the_drf_permission_checks_the_role(self):
        permission = has_role(Role.DIRECTOR)()
        request = RequestFactory().get("/")
        request.user = DirectorFactory.build()
        assert permission.has_permission(request, None)
        request.user = AccountManagerFactory.build()
        assert not permission.has_permission(request, None)


def test_the_admin_is_for_administrators_only(client):
    client.force_login(DirectorFactory())
    assert client.get("/admin/").status_code == 302  # Django's admin sends non-staff to login
    client.force_login(AdministratorFactory())
    assert client.get("/admin/").status_code == 200


def test_the_navigation_follows_the_role(client):
    client.force_login(AccountManagerFactory())
    page = client.get(reverse("web:home")).content.decode()
    assert 'href="/admin/"' not in page
    client.force_login(AdministratorFactory())
    page = client.get(reverse("web:home")).content.decode()
    assert 'href="/admin/"' in page


# The session and the user are read by prepared statements (accounts.sessions,
# accounts.backends): what Django's own store and backend decide must still hold.


def test_the_signed_in_user_is_read_with_every_field_as_the_orm_reads_it(client):
    from django.contrib.auth import get_user

    from accounts.models import User

    user = DirectorFactory(language="es", first_name="Ana", last_name="Ruiz")
    client.force_login(user)
    request = RequestFactory().get("/")
    request.session = client.session
    read = get_user(request)
    stored = User.objects.get(pk=user.pk)
    assert type(read) is User
    assert {f.attname: getattr(read, f.attname) for f in User._meta.concrete_fields} == {
        f.attname: getattr(stored, f.attname) for f in User._meta.concrete_fields
    }
    assert read.last_login is not None
    assert read.last_login.utcoffset() is not None


def test_a_change_to_the_user_counts_on_the_next_request(client):
    user = AccountManagerFactory()
    client.force_login(user)
    assert client.get(reverse("web:home")).status_code == 200
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    response = client.get(reverse("web:home"))
    assert response.status_code == 302  # signed out: an inactive user is no one
    assert response["Location"].startswith(reverse("accounts:login"))


def test_an_expired_or_deleted_session_signs_the_user_out(client):
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import Session

    client.force_login(AccountManagerFactory())
    key = client.cookies["sessionid"].value
    Session.objects.filter(pk=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    assert client.get(reverse("web:home")).status_code == 302
    client.force_login(AccountManagerFactory())
    Session.objects.filter(pk=client.cookies["sessionid"].value).delete()
    assert client.get(reverse("web:home")).status_code == 302


def test_a_session_survives_a_password_change_only_where_it_was_changed(client):
    from django.test import Client

    user = AccountManagerFactory()
    other_device = Client()
    other_device.force_login(user)
    client.force_login(user)
    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "An0ther-long-one",
            "new_password2": "An0ther-long-one",
        },
    )
    assert response.status_code == 302
    assert client.get(reverse("web:home")).status_code == 200
    assert other_device.get(reverse("web:home")).status_code == 302


def test_the_session_brings_its_user_in_the_same_statement_with_every_field(
    client, django_assert_num_queries
):
    from accounts.middleware import _get_user
    from accounts.models import User
    from accounts.sessions import SessionStore

    user = DirectorFactory(language="es", first_name="Ana", last_name="Ruiz")
    client.force_login(user)
    request = RequestFactory().get("/")
    request.session = SessionStore(client.cookies["sessionid"].value)
    with django_assert_num_queries(1):
        read = _get_user(request)
    stored = User.objects.get(pk=user.pk)
    assert type(read) is User
    assert {f.attname: getattr(read, f.attname) for f in User._meta.concrete_fields} == {
        f.attname: getattr(stored, f.attname) for f in User._meta.concrete_fields
    }


def test_a_session_names_its_user_and_goes_with_them(client):
    from accounts.models import Session

    user = AccountManagerFactory()
    client.force_login(user)
    key = client.cookies["sessionid"].value
    assert Session.objects.get(pk=key).user_id == user.pk
    client.post(reverse("accounts:logout"))
    assert not Session.objects.filter(pk=key, user=user).exists()  # logged out: no user
    client.force_login(user)
    user.delete()
    assert not Session.objects.filter(user_id=user.pk).exists()
    assert client.get(reverse("web:home")).status_code == 302


def test_a_session_without_its_user_column_still_signs_in_by_its_data(client):
    """A session whose user column is empty (or names someone else) is read as Django
    reads it: by the user id in its signed data."""
    from accounts.models import Session

    user, other = AccountManagerFactory(), AccountManagerFactory()
    client.force_login(user)
    key = client.cookies["sessionid"].value
    Session.objects.filter(pk=key).update(user=None)
    assert client.get(reverse("web:home")).context["user"] == user
    Session.objects.filter(pk=key).update(user=other)
    assert client.get(reverse("web:home")).context["user"] == user


def test_the_upgrade_moves_live_sessions_with_their_user(client):
    """Migration accounts 0003: a session in Django's own table, still alive, keeps its
    user signed in; an expired one is left behind."""
    from datetime import timedelta
    from importlib import import_module

    from django.apps import apps
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore as DjangoStore
    from django.utils import timezone

    from accounts.models import Session

    migration = import_module("accounts.migrations.0003_session")
    keep_signed_in = migration.keep_signed_in
    user = AccountManagerFactory()
    stores = []
    for expiry in (3600, -1):
        old = DjangoStore()
        old[SESSION_KEY] = str(user.pk)
        old[BACKEND_SESSION_KEY] = "accounts.backends.ModelBackend"
        old[HASH_SESSION_KEY] = user.get_session_auth_hash()
        old.set_expiry(expiry)
        old.save()
        stores.append(old)
    from django.contrib.sessions.models import Session as DjangoSession

    DjangoSession.objects.filter(pk=stores[1].session_key).update(
        expire_date=timezone.now() - timedelta(seconds=5)
    )
    keep_signed_in(apps, None)
    moved = Session.objects.get()
    assert (moved.pk, moved.user_id) == (stores[0].session_key, user.pk)
    assert not DjangoSession.objects.exists()  # a rollback would not revive what ended here
    client.cookies["sessionid"] = stores[0].session_key
    assert client.get(reverse("web:home")).context["user"] == user
    migration.back_to_djangos_table(apps, None)  # rolled back: the live one returns
    assert list(DjangoSession.objects.values_list("pk", flat=True)) == [moved.pk]


@pytest.mark.django_db(transaction=True)
def test_a_session_saved_after_its_user_was_deleted_is_saved_once():
    """The user column is no database constraint: a request that cycles the key of a
    session whose user was just deleted (a sign-in racing the deletion) saves it once,
    where a constraint failing at commit made Django's store retry new keys for ever."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    from accounts.models import Session
    from accounts.sessions import SessionStore

    user = AccountManagerFactory()
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "accounts.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    loaded = SessionStore(store.session_key)
    loaded.load()
    user.delete()
    assert not Session.objects.exists()  # the user's sessions went with them
    saves = []
    original = SessionStore.save

    def counted(self, must_create=False):
        saves.append(must_create)
        if len(saves) > 5:
            raise AssertionError("the store is retrying without end")
        return original(self, must_create)

    SessionStore.save = counted  # type: ignore[method-assign]
    try:
        loaded.cycle_key()
    finally:
        SessionStore.save = original  # type: ignore[method-assign]
    assert len(saves) == 1
    assert Session.objects.get().user_id == user.pk  # a hint that reads as no one
    client = Client()
    client.cookies["sessionid"] = str(loaded.session_key)
    assert client.get(reverse("web:home")).status_code == 302


def test_a_session_saved_the_async_way_names_its_user_too():
    from asgiref.sync import async_to_sync
    from django.contrib.auth import SESSION_KEY

    from accounts.models import Session
    from accounts.sessions import SessionStore

    user = AccountManagerFactory()
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    async_to_sync(store.asave)()
    assert Session.objects.get(pk=store.session_key).user_id == user.pk
