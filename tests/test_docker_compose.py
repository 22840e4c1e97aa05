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
    assert set(compose["services"]) == {
        "postgres",
        "redis",
        "migrate",
        "web",
        "proxy",
        "worker",
        "beat",
    }


def test_web_worker_and_beat_share_one_image(compose):
    services = compose["services"]
    assert {services[name]["image"] for name in ("web", "worker", "beat", "migrate")} == {
        "maturity:latest"
    }
    assert all(services[name]["build"] == "." for name in ("web", "worker", "beat", "migrate"))
    assert (ROOT / "Dockerfile").exists()


def test_every_long_running_service_has_a_health_check(compose):
    for name in ("postgres", "redis", "web", "proxy", "worker", "beat"):
        assert compose["services"][name]["healthcheck"]["test"], name


def test_the_health_checks_ask_the_right_questions(compose):
    services = compose["services"]
    # Liveness for web: a web container is not restarted because a worker is down.
    assert "/health/live/" in " ".join(services["web"]["healthcheck"]["test"])
    # This worker answers through the broker.
    assert "inspect ping" in " ".join(services["worker"]["healthcheck"]["test"])
    # Beat's recorded tick (tests/test_operations_drill.py runs this very command).
    assert services["beat"]["healthcheck"]["test"][1:] == [
        "python",
        "manage.py",
        "health_check",
        "health:beat",
        "--no-http",
    ]


def test_web_replicas_sit_behind_the_proxy_and_beat_is_one(compose):
    services = compose["services"]
    assert "ports" not in services["web"]  # so that `--scale web=N` does not clash
    assert services["proxy"]["ports"] == ["${WEB_PORT:-8000}:8000"]
    assert "proxy_pass $web" in (ROOT / "deploy/nginx.conf").read_text()
    assert services["beat"]["deploy"]["replicas"] == 1


def test_every_process_bounds_its_database_connections(compose):
    services = compose["services"]
    assert services["web"]["environment"]["DATABASE_POOL_MAX_SIZE"] == "${WEB_THREADS:-4}"
    assert services["worker"]["environment"]["DATABASE_POOL_MAX_SIZE"] == "1"
    assert services["beat"]["environment"]["DATABASE_POOL_MAX_SIZE"] == "1"
    assert "max_connections" in " ".join(services["postgres"]["command"])


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
