"""A body in a media type the operation does not take is 415 problem+json, everywhere, and
nothing is stored; what an operation takes is what the spec says it takes."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import func, select

from app.claims.models import Claim
from app.core.policy import Role
from app.openapi_export import render
from tests.support.clients import assert_problem
from tests.support.service import bearer

CLAIM = {
    "member_id": str(uuid.uuid4()),
    "benefit": "accident_condolence",
    "event": {"kind": "accident", "occurred_on": "2026-11-20", "ref": "a-1"},
}


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "text/csv",
        None,  # a body and no Content-Type at all
    ],
)
async def test_a_json_operation_refuses_other_media_types(client, api_key, db, content_type):
    citizen = bearer(await api_key(Role.CITIZEN_APP)) | {"Idempotency-Key": "ct-1"}
    headers = citizen | ({"Content-Type": content_type} if content_type else {})

    refused = await client.post("/v1/claims", content=json.dumps(CLAIM).encode(), headers=headers)

    problem = assert_problem(refused, 415, "unsupported_media_type")
    assert "application/json" in problem["detail"]
    async with db.reader() as session:
        assert await session.scalar(select(func.count()).select_from(Claim)) == 0


async def test_json_and_its_suffixed_forms_and_parameters_are_taken(client, api_key, db):
    citizen = bearer(await api_key(Role.CITIZEN_APP))
    for n, content_type in enumerate(
        ["application/json", "Application/JSON; charset=utf-8", "application/merge-patch+json"]
    ):
        answer = await client.post(
            "/v1/claims",
            content=json.dumps(CLAIM).encode(),
            headers=citizen | {"Content-Type": content_type, "Idempotency-Key": f"ok-{n}"},
        )
        # Past the media type: the claim is read (an unknown member is the plan's 404/422).
        assert answer.status_code != 415, (content_type, answer.text)


async def test_the_batch_upload_takes_csv_and_json_and_nothing_else(client, api_key, db):
    union = bearer(await api_key(Role.UNION, "SH-XUHUI"))

    xml = await client.post(
        "/v1/enrolment-batches?plan_code=shanghai-new-employment-e",
        content=b"<rows/>",
        headers=union | {"Content-Type": "application/xml", "Idempotency-Key": "x"},
    )

    problem = assert_problem(xml, 415, "unsupported_media_type")
    assert "application/json or text/csv" in problem["detail"]


async def test_the_gateways_signed_notifications_take_json(client):
    refused = await client.post(
        "/v1/payment-notifications", content=b"event_id=1", headers={"Content-Type": "text/plain"}
    )

    assert_problem(refused, 415, "unsupported_media_type")


async def test_a_post_without_a_body_needs_no_content_type(client, api_key, db):
    finance = bearer(await api_key(Role.FINANCE))

    answer = await client.post(f"/v1/refunds/{uuid.uuid4()}/retry", headers=finance)

    assert_problem(answer, 404, "refund_not_found")


def test_every_operation_that_takes_a_body_documents_its_415():
    spec = json.loads(render())
    with_body = [
        (path, method, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if "requestBody" in operation
    ]
    assert len(with_body) >= 19
    for path, method, operation in with_body:
        assert "415" in operation["responses"], (method, path)


def test_the_guard_takes_what_the_spec_says_each_operation_takes():
    from app.core.config import Settings
    from app.core.content_type import taken_by_routes
    from app.main import create_app

    settings = Settings(DATABASE_URL="sqlite:///:memory:", DATA_KEY="x" * 43, LOOKUP_KEY="x" * 43)
    app = create_app(settings)
    spec = app.openapi()
    documented = {
        (method.upper(), path): frozenset(operation["requestBody"]["content"])
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if operation.get("requestBody", {}).get("content")
    }
    guarded = {}
    for pattern, methods, taken in taken_by_routes(app):
        for method in methods:
            matched = [path for m, path in documented if m == method and pattern.match(path)]
            assert len(matched) == 1, (pattern.pattern, method, matched)
            guarded[(method, matched[0])] = taken

    assert guarded == documented
    assert documented[("POST", "/v1/enrolment-batches")] == {"application/json", "text/csv"}
