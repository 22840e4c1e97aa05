"""The sources of ``core.models.Heartbeat`` rows (plain names, importable before Django is
set up, as ``maturity/celery.py`` needs)."""

# A worker ran the heartbeat task beat sent through the broker: beat, broker and a worker
# all work.
WORKER = "worker"
# Beat's scheduler ticked (core.beat records it directly in the database).
BEAT = "beat"
