# syntax=docker/dockerfile:1
# Build: docker build -t mutualaid .
# Run:   docker run -e MUTUALAID_ENV=production -e DATABASE_URL=postgresql://... \
#          -e DATA_KEY=... -e LOOKUP_KEY=... -e PAYMENT_NOTIFICATION_SECRETS=... -p 8000:8000 mutualaid

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY pyproject.toml README.md ./
COPY app ./app
COPY migrations ./migrations
# The wheel is what is installed: it carries the code, its migrations and every data file, so the
# image holds nothing the wheel does not.
RUN /opt/venv/bin/pip install --upgrade pip \
    && /opt/venv/bin/pip wheel --no-deps -w /src/dist . \
    && /opt/venv/bin/pip install /src/dist/mutualaid-*.whl

FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MUTUALAID_ENV=production \
    MUTUALAID_VAR_DIR=/app/var
RUN groupadd --system mutualaid && useradd --system --gid mutualaid --home-dir /app mutualaid
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
RUN mkdir -p /app/var && chown mutualaid:mutualaid /app/var
USER mutualaid
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"]
# `serve` applies pending migrations, then starts uvicorn.
CMD ["mutualaid", "serve", "--host", "0.0.0.0", "--port", "8000"]
