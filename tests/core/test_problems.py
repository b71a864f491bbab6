"""Errors are RFC 9457 problem+json everywhere, with machine codes and no internals."""

from __future__ import annotations

import json
import logging

from sqlalchemy.exc import OperationalError

from app.core.logging import JsonFormatter
from app.core.policy import Role
from app.core.problems import _database_error
from app.main import create_app
from tests.support.clients import assert_problem
from tests.support.service import asgi_client, bearer


async def test_unknown_path_is_a_404_problem(client):
    assert_problem(await client.get("/v1/no-such-thing"), 404, "not_found")


async def test_wrong_method_is_a_405_problem_with_allow(client):
    response = await client.delete("/healthz")

    assert_problem(response, 405, "method_not_allowed")
    assert "GET" in response.headers["allow"]


async def test_unknown_json_fields_are_refused(probe_client, api_key):
    response = await probe_client.post(
        "/v1/probes/things",
        json={"name": "x", "colour": "red"},
        headers=bearer(await api_key(Role.CITIZEN_APP)) | {"Idempotency-Key": "u1"},
    )

    body = assert_problem(response, 422, "validation_error")
    assert body["errors"] == [
        {
            "code": "unknown_field",
            "field": "colour",
            "location": "body",
            "message": "Extra inputs are not permitted",
        }
    ]


async def test_missing_and_invalid_fields_are_listed(probe_client, api_key):
    response = await probe_client.post(
        "/v1/probes/things",
        json={"wait": "perhaps"},
        headers=bearer(await api_key(Role.CITIZEN_APP)) | {"Idempotency-Key": "u2"},
    )

    body = assert_problem(response, 422, "validation_error")
    assert {(e["code"], e["field"]) for e in body["errors"]} == {
        ("required", "name"),
        ("bool_parsing", "wait"),
    }


async def test_malformed_json_is_a_validation_problem(probe_client, api_key):
    response = await probe_client.post(
        "/v1/probes/things",
        content=b'{"name": ',
        headers=bearer(await api_key(Role.CITIZEN_APP))
        | {"Idempotency-Key": "u3", "Content-Type": "application/json"},
    )

    body = assert_problem(response, 422, "validation_error")
    assert body["errors"][0]["code"] == "invalid_json"


async def test_query_errors_name_the_parameter(probe_client):
    body = assert_problem(
        await probe_client.get("/v1/probes/numbers?count=99"), 422, "validation_error"
    )
    assert [(e["field"], e["location"]) for e in body["errors"]] == [("count", "query")]


async def test_unexpected_errors_are_500_without_internals(probe_client, caplog):
    with caplog.at_level(logging.ERROR):
        response = await probe_client.get("/v1/probes/boom")

    assert_problem(response, 500, "internal_error")
    assert "RuntimeError" not in response.text
    assert "internal detail" not in response.text
    logged = [r for r in caplog.records if r.name == "mutualaid.errors"]
    assert logged
    assert logged[0].exc_info is not None
    line = JsonFormatter().format(logged[0])
    assert "310101199001011234" not in line
    assert "13812345678" not in line
    assert "310101********1234" in line
    assert json.loads(line)["request_id"] == response.headers["x-request-id"]


async def test_the_request_id_is_echoed_when_sane_and_replaced_when_not(client):
    kept = await client.get("/healthz", headers={"X-Request-ID": "trace-1234abcd"})
    replaced = await client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})

    assert kept.headers["x-request-id"] == "trace-1234abcd"
    assert replaced.headers["x-request-id"] != "bad id\twith spaces"
    assert len(replaced.headers["x-request-id"]) == 32


def request_body_schemas(spec: dict) -> list[str]:
    """Names of every component schema reachable from a JSON request body."""
    components = spec["components"]["schemas"]
    seen: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                name = ref.rsplit("/", 1)[-1]
                if name not in seen:
                    seen.append(name)
                    walk(components[name])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in spec["paths"].values():
        for operation in path.values():
            content = operation.get("requestBody", {}).get("content", {})
            walk(content.get("application/json", {}))
    return seen


async def test_every_request_body_refuses_unknown_fields(probe_app):
    spec = probe_app.openapi()
    names = request_body_schemas(spec)

    assert "ProbeIn" in names, "the probe route has a body, so the check sees at least one"
    for name in names:
        schema = spec["components"]["schemas"][name]
        if schema.get("type") == "object":
            assert schema.get("additionalProperties") is False, name


async def test_readiness_fails_with_a_problem_when_the_database_is_gone(settings, tmp_path):
    broken = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path}/missing/x.db"})
    app = create_app(broken)
    async with asgi_client(app) as http:
        response = await http.get("/readyz")
    await app.state.runtime.db.dispose()

    body = assert_problem(response, 503, "database_unavailable")
    assert "sqlite" not in json.dumps(body).lower()


async def test_ready_when_migrated(client):
    response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["status"] == "ready"


async def test_health_probes_answer_head(client):
    assert (await client.head("/healthz")).status_code == 200
    assert (await client.head("/readyz")).status_code == 200


async def test_an_oversized_body_is_a_413_problem(probe_client, api_key, settings):
    headers = bearer(await api_key(Role.CITIZEN_APP)) | {"Idempotency-Key": "big"}
    huge = b'{"name": "' + b"x" * settings.max_body_bytes + b'"}'

    declared = await probe_client.post(
        "/v1/probes/things", content=huge, headers=headers | {"Content-Type": "application/json"}
    )

    async def chunks():
        for start in range(0, len(huge), 65536):
            yield huge[start : start + 65536]

    streamed = await probe_client.post(
        "/v1/probes/things",
        content=chunks(),
        headers=headers | {"Content-Type": "application/json"},
    )

    for response in (declared, streamed):
        body = assert_problem(response, 413, "payload_too_large")
        assert str(settings.max_body_bytes) in body["detail"]


async def test_a_lost_connection_is_unavailable_even_when_the_statement_says_locked():
    """`database_busy` is read from the driver's message, not the SQL (which names
    `locked_until` in the idempotency claim)."""
    lost = OperationalError(
        "UPDATE idempotency_keys SET locked_until = ?", {}, ConnectionError("connection reset")
    )
    locked = OperationalError("INSERT INTO claims ...", {}, Exception("database is locked"))

    assert json.loads((await _database_error(None, lost)).body)["code"] == "database_unavailable"
    assert json.loads((await _database_error(None, locked)).body)["code"] == "database_busy"
