"""Every router, mounted in one place."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from app.batches.endpoints import router as batches_router
from app.claims.endpoints import router as claims_router
from app.clients.endpoints import router as clients_router
from app.core.middleware import API_PREFIX
from app.coverage.endpoints import router as coverage_router
from app.enrolment.endpoints import router as enrolment_router
from app.health.endpoints import router as health_router
from app.members.endpoints import router as members_router
from app.metrics.endpoints import router as metrics_router
from app.partners.endpoints import LookupRoute
from app.partners.endpoints import router as partners_router
from app.payments.endpoints import router as payments_router
from app.payouts.endpoints import notifications as payout_notifications_router
from app.payouts.endpoints import router as payouts_router
from app.plans.endpoints import router as plans_router
from app.platforms.endpoints import router as platforms_router
from app.reconciliation.endpoints import router as reconciliation_router
from app.reports.endpoints import router as reports_router
from app.unions.endpoints import router as unions_router
from app.webhooks.endpoints import router as webhooks_router


def operation_id(route: APIRoute) -> str:
    """`clients_me` rather than `me_v1_clients_me_get`: names generated clients keep."""
    return f"{route.tags[0]}_{route.name}" if route.tags else route.name


v1 = APIRouter(prefix=API_PREFIX)
v1.include_router(clients_router)
v1.include_router(plans_router)
v1.include_router(platforms_router)
v1.include_router(enrolment_router)
v1.include_router(payments_router)
v1.include_router(batches_router)
v1.include_router(coverage_router)
v1.include_router(members_router)
v1.include_router(claims_router)
v1.include_router(payout_notifications_router)
v1.include_router(payouts_router)
v1.include_router(unions_router)
v1.include_router(reports_router)
v1.include_router(reconciliation_router)
v1.include_router(webhooks_router)


def _every_route() -> APIRouter:
    """Every route, included once per process. Including a router makes FastAPI build its own
    copy of each route (dependencies, validators) on first use; built here, that work is done
    once and every app made in the process shares it (the tests make hundreds of apps; a
    server makes one). Routes hold no configuration: each request finds its app's runtime in
    `request.app.state`. Nothing here is the app's router, so `app.dependency_overrides` has no
    effect on these routes."""
    root = APIRouter(generate_unique_id_function=operation_id)
    root.include_router(health_router)
    root.include_router(metrics_router)
    # The platforms' coverage look-ups are the most frequent requests: matched before the rest
    # of /v1, and straight from the app, since each level of included routers is walked on
    # every request (a tenth of the look-up's CPU when they sat inside /v1).
    root.include_router(partners_router, prefix=API_PREFIX)
    root.include_router(v1)
    # Before every other route, the docs' included: the one-worker look-up without FastAPI's
    # route handling (app.partners.endpoints says why); its documented route stays above.
    root.routes.insert(0, LookupRoute(API_PREFIX))
    return root


_ROUTES = _every_route().routes


def mount_routers(app: FastAPI) -> None:
    app.router.routes.extend(_ROUTES)
