"""Operations: health checks, Prometheus metrics and the figures both read.

A top-level app: it reads core's heartbeats and education's outbox, and nothing imports it
but the URLs.
"""
