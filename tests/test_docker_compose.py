"""docker-compose.yml describes the production shape and wires it correctly."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_it_has_the_services_the_product_needs(compose):
    assert set(compose["services"]) == {"postgres", "redis", "migrate", "web", "worker", "beat"}


def test_web_worker_and_beat_share_one_image(compose):
    services = compose["services"]
    assert {services[name]["image"] for name in ("web", "worker", "beat", "migrate")} == {
        "maturity:latest"
    }
    assert all(services[name]["build"] == "." for name in ("web", "worker", "beat", "migrate"))
    assert (ROOT / "Dockerfile").exists()


def test_every_long_running_service_has_a_health_check(compose):
    for name in ("postgres", "redis", "web", "worker"):
        assert compose["services"][name]["healthcheck"]["test"], name


def test_the_app_waits_for_healthy_databases_and_for_migrations(compose):
    for name in ("web", "worker", "beat"):
        depends = compose["services"][name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
        assert depends["migrate"]["condition"] == "service_completed_successfully"


def test_the_app_is_pointed_at_the_compose_services(compose):
    for name in ("web", "worker", "beat", "migrate"):
        env = compose["services"][name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://maturity:")
        assert env["DATABASE_URL"].endswith("@postgres:5432/maturity")
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        assert env["DEBUG"] == "false"
        assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")  # no default secret in the file


def test_the_commands_run_gunicorn_celery_worker_and_beat(compose):
    services = compose["services"]
    assert services["web"]["command"][0] == "gunicorn"
    assert services["worker"]["command"][:4] == ["celery", "-A", "maturity", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "maturity", "beat"]


def test_data_lives_in_named_volumes(compose):
    assert set(compose["volumes"]) == {"postgres-data", "redis-data", "beat-data"}
    assert "postgres-data:/var/lib/postgresql/data" in compose["services"]["postgres"]["volumes"]
    assert "redis-data:/data" in compose["services"]["redis"]["volumes"]
