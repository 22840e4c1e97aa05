# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    VAR_DIR=/app/var

WORKDIR /app
COPY pyproject.toml requirements.lock README.md ./
COPY . .
RUN pip install -c requirements.lock . \
    && DEBUG=false ALLOWED_HOSTS=build SITE_URL=https://build SECRET_KEY=build-only-key-that-never-serves-a-request-0123456789 \
       python manage.py collectstatic --no-input \
    && useradd --system --uid 1000 --home /app maturity \
    && mkdir -p /app/var && chown -R maturity /app/var

USER maturity
EXPOSE 8000
# gunicorn.conf.py (in /app) sets workers, threads and timeouts from the environment.
CMD ["gunicorn", "maturity.wsgi"]
