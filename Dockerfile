FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN apt-get update && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
RUN pip install --no-cache-dir -e .
COPY . .
RUN useradd --system --home /app acorn && chown -R acorn /app
USER acorn
EXPOSE 8000
CMD ["gunicorn", "acorn.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
