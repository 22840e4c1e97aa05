"""WSGI entry point (gunicorn maturity.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "maturity.settings")
application = get_wsgi_application()

# Requests publish their Celery messages after the response's commit from a thread of
# their own (core.tasks.Publisher): imported here, after Django is set up.
from core.tasks import publish_in_background  # noqa: E402

publish_in_background()
