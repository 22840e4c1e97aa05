"""What webhooks tell higher apps (which may not be imported here)."""

from django.dispatch import Signal

# Sent in the transaction that disabled it, with ``endpoint``: education tells directors.
endpoint_disabled = Signal()
