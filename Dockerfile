# The one image of every ACORN process (web, worker, beat, sandbox, migrate).
# Production settings by default: a container started without its secrets
# refuses to run. docker-compose.yml shows the whole stack.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=acorn.settings.production \
    ACORN_STATIC_ROOT=/app/staticfiles
# gettext; WeasyPrint's Pango/HarfBuzz and the invoice fonts (DejaVu, Noto
# CJK for Chinese), as in scripts/system-packages.sh.
RUN apt-get update && apt-get install -y --no-install-recommends gettext \
    libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fontconfig \
    fonts-dejavu-core fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Dependencies first (cached while only the code changes), at the exact
# versions of constraints.txt.
COPY pyproject.toml README.md constraints.txt ./
RUN pip install --no-cache-dir -c constraints.txt -e .
COPY . .
# Hashed, compressed static files for WhiteNoise, gathered at build time.
# collectstatic needs settings that load, not real secrets: these
# placeholders exist for this one command and are not kept in the image.
RUN DJANGO_SECRET_KEY=collectstatic-only-not-a-secret \
    DJANGO_ALLOWED_HOSTS=localhost \
    DATABASE_URL=postgres://build@localhost/build \
    REDIS_URL=redis://localhost:6379/0 \
    ACORN_FIELD_ENCRYPTION_KEYS=Y29sbGVjdHN0YXRpYy1vbmx5LW5vdC1hLXNlY3JldCE= \
    python manage.py collectstatic --noinput
RUN useradd --system --home /app acorn && mkdir -p /app/var/documents && chown -R acorn /app
USER acorn
EXPOSE 8000
CMD ["gunicorn", "acorn.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", \
     "--access-logfile", "-"]
