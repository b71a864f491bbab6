"""The ASGI application factory."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app import __version__
from app.api import mount_routers, operation_id
from app.batches.slots import UploadSlots
from app.batches.submission import UPLOAD_PATH as BATCH_UPLOAD_PATH
from app.clients.caller_cache import CallerCache
from app.clients.rate_limit import RateLimiter
from app.core.api_docs import install_api_docs
from app.core.body_limit import BodySizeLimitMiddleware
from app.core.config import Settings, get_settings
from app.core.conflict_retry import ConflictRetryMiddleware
from app.core.content_type import ContentTypeGuard, document_415
from app.core.db import API_CONNECTIONS, Database
from app.core.logging import configure_logging
from app.core.middleware import RequestContextMiddleware
from app.core.openapi_docs import EXTRA_SCHEMAS
from app.core.problems import PROBLEM_MEDIA_TYPE, install_problem_handlers
from app.core.runtime import Runtime
from app.core.url_guard import NulInUrlMiddleware
from app.handlers import JOB_HANDLERS, PAID_ORDERS, WORKER_DUTIES
from app.idempotency.deps import install_idempotency
from app.jobs.worker import Worker
from app.openapi_examples import add_request_examples
from app.plans import install as install_plans
from app.plans import load as load_plans
from app.reconciliation.endpoints import PATH as RECONCILIATION_PATH
from app.tables import import_all_models

DESCRIPTION = """
The Shanghai trade unions' mutual-aid protection plan for new-employment-form workers
(delivery riders, couriers, ride-hailing and freight drivers): enrolment, premium collection,
coverage and claims.

Authenticate with `Authorization: Bearer <api key>` (keys come from `mutualaid clients create`;
`mutualaid demo` prints one per role). Money is integer fen (`*_fen`). Errors are RFC 9457
`application/problem+json` with a machine-readable `code`. POSTs that create things need an
`Idempotency-Key` header.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    import_all_models()  # foreign keys between features' tables resolve
    settings = settings or get_settings()
    install_plans(load_plans(settings.plans_dir))  # a bad plan file stops the start
    runtime = Runtime.from_settings(settings, Database.from_settings(settings, API_CONNECTIONS))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # SQLite runs one job worker inside the API process; PostgreSQL deployments run
        # `mutualaid worker` processes instead.
        stop = asyncio.Event()
        worker_task = (
            asyncio.create_task(
                Worker(app.state.runtime, JOB_HANDLERS, duties=WORKER_DUTIES).run(stop)
            )
            if settings.is_sqlite and settings.in_process_worker
            else None
        )
        yield
        stop.set()
        if worker_task is not None:
            await worker_task
        await app.state.runtime.close()

    app = FastAPI(
        title="mutualaid",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        docs_url=None,  # served without a CDN by install_api_docs
        redoc_url=None,
    )
    app.state.runtime = runtime
    app.state.settings = settings
    app.state.caller_cache = CallerCache(settings.api_key_cache_seconds)
    app.state.paid_orders = PAID_ORDERS
    app.state.rate_limiter = RateLimiter(settings.rate_limits_enabled, settings.rate_limits)
    app.state.upload_slots = UploadSlots(settings.batch_upload_concurrency)
    install_problem_handlers(app)
    install_idempotency(app)
    # Innermost: a request aborted by a serialization failure or deadlock runs again whole.
    app.add_middleware(
        ConflictRetryMiddleware, streamed_prefixes=(BATCH_UPLOAD_PATH, RECONCILIATION_PATH)
    )
    # Added early, so it runs inside the request context: a 413 still carries the request id.
    app.add_middleware(
        BodySizeLimitMiddleware,
        default_limit=settings.max_body_bytes,
        limits_by_prefix={
            BATCH_UPLOAD_PATH: settings.max_batch_body_bytes,
            RECONCILIATION_PATH: settings.max_batch_body_bytes,
        },
    )
    app.add_middleware(ContentTypeGuard, api=app)
    app.add_middleware(NulInUrlMiddleware)
    app.add_middleware(RequestContextMiddleware)
    mount_routers(app)
    install_api_docs(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def serve_app() -> FastAPI:
    """Factory for uvicorn worker processes: each configures its own logging."""
    settings = get_settings()
    configure_logging(settings.log_level)
    app = create_app(settings)
    # What the process built to start (modules, routes, plans) lives as long as it does: kept
    # out of the collector's full passes, which otherwise walk all of it and stall every
    # request in flight (the look-up's p99 under load fell from ~207 ms to ~130 ms).
    gc.collect()
    gc.freeze()
    return app


_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's spec with errors documented as what they are: problem+json, never FastAPI's
    own validation-error schema."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    add_request_examples(schema)
    document_415(schema)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(EXTRA_SCHEMAS)
    for name in _FASTAPI_VALIDATION_SCHEMAS:
        components.pop(name, None)
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            for status, response in operation.get("responses", {}).items():
                if status.startswith(("4", "5")):
                    content = response.get("content", {})
                    body = content.pop("application/json", None)
                    if body is not None:
                        content[PROBLEM_MEDIA_TYPE] = body
    app.openapi_schema = schema
    return schema
