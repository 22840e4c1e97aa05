"""Settings come from the environment and refuse bad values loudly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from maturity.env import Env

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "x7!k2@p9#q4$w8%e1^r6&t3*y5(u0)i-o_p=a+s[d]f{g}h|j;k:l'z,x.c/v<b>n?m",
    "ALLOWED_HOSTS": "maturity.example.com",
    "DATABASE_URL": "postgres://maturity:secret@db.internal:5432/maturity",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "EMAIL_HOST": "smtp.example.com",
    "SITE_URL": "https://maturity.example.com",
}


def run_manage(
    *args: str, env: dict[str, str], unset_prefix: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``manage.py`` in a process of its own, with this one's environment less the
    production settings (and any variable starting with ``unset_prefix``), plus ``env``."""
    dropped = {*PRODUCTION, "DJANGO_ALLOW_ASYNC_UNSAFE"}
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in dropped and not (unset_prefix and k.startswith(unset_prefix))
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, "VAR_DIR": str(ROOT / "var" / "settings-tests"), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_check():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_static_files_collect_for_production(tmp_path):
    # Production serves hashed, compressed files from a manifest; a vendored file that
    # references a missing one (a source map, a font) fails here instead of in a deploy.
    result = run_manage("collectstatic", "--no-input", env={**PRODUCTION, "VAR_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "staticfiles" / "staticfiles.json").exists()


def test_production_refuses_the_development_secret_key():
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_needs_the_site_url_for_links_in_emails():
    env = {k: v for k, v in PRODUCTION.items() if k != "SITE_URL"}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "SITE_URL must be set" in result.stderr


def test_production_refuses_empty_allowed_hosts():
    env = {**PRODUCTION, "ALLOWED_HOSTS": ""}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS" in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DEBUG", "maybe", "is not a boolean"),
        ("DATABASE_URL", "mysql://root@localhost/db", "DATABASE_URL must be"),
        ("REDIS_URL", "http://localhost:6379", "REDIS_URL must be"),
        ("CELERY_BROKER_URL", "amqp://guest@localhost//", "CELERY_BROKER_URL must be"),
        ("EMAIL_PORT", "twenty-five", "is not a whole number"),
        ("LOG_LEVEL", "LOUD", "is not a logging level"),
        ("SITE_URL", "maturity.example.com", "SITE_URL must be an http(s):// URL"),
        ("EDUCATION_DISPATCH_SECONDS", "0", "must be at least 1"),
        ("EDUCATION_DIGEST_WEEKDAY", "8", "EDUCATION_DIGEST_WEEKDAY must be 1"),
        ("EDUCATION_DIGEST_HOUR", "24", "EDUCATION_DIGEST_HOUR must be 0 to 23"),
        ("REDIS_SOCKET_TIMEOUT", "forever", "is not a number"),
        ("REDIS_CONNECT_TIMEOUT", "nan", "is not a finite number"),
        ("DATABASE_POOL_MAX_SIZE", "0", "must be at least 1"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT='xml' must be json or console"),
    ],
)
def test_a_bad_value_stops_start_up_with_a_message(name, value, message):
    result = run_manage("check", env={"DEBUG": "true", name: value})
    assert result.returncode != 0
    assert message in result.stderr


def test_production_bounds_every_wait_pools_connections_and_logs_json():
    result = run_manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings as s; d = s.DATABASES['default']; "
        "t = s.CELERY_BROKER_TRANSPORT_OPTIONS; "
        "print(s.LOG_FORMAT, d['OPTIONS']['pool']['max_size'], d['CONN_MAX_AGE'], "
        "d['OPTIONS']['connect_timeout'], t['socket_timeout'], t['socket_connect_timeout'], "
        "s.CACHES['default']['OPTIONS']['socket_timeout'], s.EMAIL_TIMEOUT)",
        env={**PRODUCTION, "DATABASE_POOL_MAX_SIZE": "6"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["json", "6", "0", "5", "1.0", "1.0", "1.0", "10"]


def test_the_readme_documents_every_variable_the_settings_read():
    import re

    names = set(
        re.findall(r'env\.get_\w+\(\s*"([A-Z0-9_]+)"', (ROOT / "maturity/settings.py").read_text())
    )
    readme = (ROOT / "README.md").read_text()
    assert len(names) > 40
    assert sorted(name for name in names if f"`{name}`" not in readme) == []


def test_the_readme_says_the_proxy_header_is_off_unless_asked_for():
    # It once said "on when DEBUG is off"; the settings never did that.
    readme = (ROOT / "README.md").read_text()
    assert "| `SECURE_PROXY_SSL_HEADER` | off |" in readme
    result = run_manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings as s; print(getattr(s, 'SECURE_PROXY_SSL_HEADER', None))",
        env=PRODUCTION,
    )
    assert result.stdout.strip() == "None", result.stderr


def test_the_embedded_default_needs_no_server(tmp_path):
    result = run_manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, s.EMAIL_BACKEND)",
        env={"DEBUG": "true", "VAR_DIR": str(tmp_path), "DATABASE_URL": "", "REDIS_URL": ""},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "filesystem://",
        "django.core.mail.backends.console.EmailBackend",
    ]
    assert (tmp_path / "celery-broker" / "queue").is_dir()


class TestEnv:
    def test_booleans_accept_the_usual_spellings(self):
        env = Env({"A": "Yes", "B": "off", "C": "1"})
        assert (env.get_bool("A", False), env.get_bool("B", True), env.get_bool("C", False)) == (
            True,
            False,
            True,
        )

    def test_floats_are_read_and_bounded(self):
        env = Env({"A": "0.25", "B": "-1", "C": "inf"})
        assert env.get_float("A", 1.0) == 0.25
        assert env.get_float("MISSING", 1.5) == 1.5
        with pytest.raises(ImproperlyConfigured, match="must be at least 0"):
            env.get_float("B", 1.0, minimum=0)
        with pytest.raises(ImproperlyConfigured, match="not a finite number"):
            env.get_float("C", 1.0)

    def test_a_missing_value_takes_the_default(self):
        assert Env({}).get_int("N", 7) == 7

    def test_an_int_below_its_minimum_is_refused(self):
        with pytest.raises(ImproperlyConfigured, match="at least 1"):
            Env({"N": "0"}).get_int("N", 5, minimum=1)

    def test_a_required_value_without_default_is_refused(self):
        with pytest.raises(ImproperlyConfigured, match="X is required"):
            Env({}).get_str("X")

    def test_lists_split_on_commas_and_drop_blanks(self):
        assert Env({"HOSTS": "a.com, b.com,,"}).get_list("HOSTS", []) == ["a.com", "b.com"]
