"""Schemathesis against the committed spec, in process, with a valid key for each role.

Every operation of `openapi/openapi.json` gets generated requests, valid and invalid, sent as
the role the policy allows for it (anonymous for the signed gateway notifications). Each answer
must not be a 5xx, and its status, content type, headers and body must be what the spec says.
Business refusals (404 for random ids, 409, 422) are fine: the spec documents them.

The run's size is printed at the end of the suite ("contract fuzzing: N operations, M cases").
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.clients.service import create_client
from app.core.migrate import upgrade
from app.core.policy import POLICY, Role
from app.main import create_app
from app.platforms.schemas import PlatformIn
from app.platforms.service import add_platform
from tests.support.service import bearer, drop_database, fresh_database_url, make_settings
from tests.support.tenancy import OPS

SPEC = Path(__file__).parents[2] / "openapi" / "openapi.json"
schema = schemathesis.openapi.from_path(SPEC)


def invalid_data_is_rejected(ctx: Any, response: Any, case: Any) -> bool | None:
    """Schemathesis' own check, except for requests carrying query parameters the operation
    does not declare: those are ignored, as HTTP APIs do (a cache-busting `?_=1` must not fail
    a request), and schemathesis does not always recognise such a request as only that."""
    declared = {parameter.name for parameter in case.operation.query}
    if set(case.query or {}) - declared:
        return None
    return negative_data_rejection(ctx, response, case)


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    invalid_data_is_rejected,
]
EXAMPLES_PER_OPERATION = 25
# Bound to a union and a platform that exist, so their keys reach the business rules.
ORGS = {Role.UNION: "SH-PUDONG", Role.PLATFORM: "demo-delivery"}
# A role the policy allows for each operation; the signed notifications take no key.
ROLE_FOR = {(op.method, op.path): sorted(POLICY[op.action], key=lambda r: r.value)[0] for op in OPS}


@pytest.fixture(scope="module")
async def fuzz_database(backend, test_var_dir):
    """A database of its own: generated requests create clients, platforms and enrolments."""
    url = await fresh_database_url(backend, test_var_dir, "fuzz")
    await asyncio.to_thread(upgrade, url)
    seeding = create_app(make_settings(url, test_var_dir))
    keys: dict[Role, dict[str, str]] = {}
    async with seeding.state.runtime.db.writer() as session:
        await add_platform(
            session,
            seeding.state.runtime.cipher,
            PlatformIn(
                code="demo-delivery",
                name="demo",
                work_types=["food_delivery"],
                # Nothing listens there: verification fails at once, as "cannot verify".
                verify_url="http://127.0.0.1:9/verify",
            ),
            None,
        )
        for role in Role:
            issued = await create_client(
                session, role=role, name=f"fuzz-{role.value}", org_code=ORGS.get(role)
            )
            keys[role] = bearer(issued.api_key)
        await session.commit()
    await seeding.state.runtime.close()
    yield url, keys
    await drop_database(backend, url)


@pytest.fixture(scope="module")
def fuzz(fuzz_database, test_var_dir) -> tuple[Any, dict[Role, dict[str, str]]]:
    url, keys = fuzz_database
    app = create_app(
        make_settings(
            url,
            test_var_dir,
            MUTUALAID_IN_PROCESS_WORKER="false",
            MUTUALAID_PLATFORM_ATTEMPTS=1,
            MUTUALAID_PLATFORM_TIMEOUT_SECONDS=1,
        )
    )
    # Schemathesis runs the app's lifespan around each call; its shutdown would close the
    # runtime's HTTP client that the next case's platform verification still needs.
    app.router.lifespan_context = _runtime_kept
    return app, keys


@asynccontextmanager
async def _runtime_kept(_app: Any) -> AsyncIterator[None]:
    yield


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_keeps_its_contract(case, fuzz, record_property):
    app, keys = fuzz
    role = ROLE_FOR.get((case.operation.method.upper(), case.operation.path))
    headers = keys[role] if role is not None else {}
    response = case.call(app=app, headers=headers)
    record_property("fuzzed", f"{case.operation.method.upper()} {case.operation.path}")
    case.validate_response(response, checks=CHECKS)
