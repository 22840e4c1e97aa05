"""Cross-cutting pieces: home page, health check, worker heartbeat, project commands."""
