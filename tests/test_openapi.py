"""The committed spec is what the app generates (`make openapi` regenerates it)."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from app.openapi_export import render

SPEC_FILE = Path(__file__).resolve().parents[1] / "openapi" / "openapi.json"


def test_committed_spec_matches_the_app():
    assert SPEC_FILE.read_text(encoding="utf-8") == render(), (
        "openapi/openapi.json is stale: run `make openapi` and commit it"
    )


def test_every_reference_resolves_and_errors_are_problem_json():
    spec = json.loads(render())
    schemas = spec["components"]["schemas"]
    text = json.dumps(spec)
    for name in {part.split('"')[0] for part in text.split("#/components/schemas/")[1:]}:
        assert name in schemas, name
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    assert list(response["content"]) == ["application/problem+json"], (
                        method,
                        path,
                        status,
                    )


def test_authenticated_operations_declare_the_bearer_scheme():
    spec = json.loads(render())
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    signed_instead = {
        "/v1/payment-notifications",
        "/v1/payout-notifications",
        "/v1/refund-notifications",
    }  # the gateway signs; it has no API key
    for path, item in spec["paths"].items():
        if path.startswith("/v1/") and path not in signed_instead:
            for operation in item.values():
                assert operation.get("security") == [{"HTTPBearer": []}], path
    assert "security" not in spec["paths"]["/v1/payment-notifications"]["post"]


SIGNED_OPERATIONS = (
    "/v1/payment-notifications",
    "/v1/payout-notifications",
    "/v1/refund-notifications",
)


def test_signed_operations_require_x_signature_and_say_what_their_401_means():
    """The gateway's integrator reads the spec: the header is required, its format given, and
    the 401 is about the signature (these take no API key)."""
    spec = json.loads(render())
    for path in SIGNED_OPERATIONS:
        operation = spec["paths"][path]["post"]
        [header] = [p for p in operation.get("parameters", []) if p["in"] == "header"]
        assert (header["name"], header["required"]) == ("X-Signature", True), path
        assert "t=<unix seconds>,v1=" in header["description"], path
        assert "signature" in operation["responses"]["401"]["description"].lower(), path
        assert "API key" not in operation["responses"]["401"]["description"], path
        assert operation["requestBody"]["required"] is True, path


def _request_models() -> dict[str, type[BaseModel]]:
    """Every request model of the app by the name the spec gives its schema."""
    found: dict[str, list[type[BaseModel]]] = {}
    stack = list(BaseModel.__subclasses__())
    while stack:
        model = stack.pop()
        stack += model.__subclasses__()
        if model.__module__.startswith("app."):
            found.setdefault(model.__name__, []).append(model)
    return {name: models[0] for name, models in found.items() if len(models) == 1}


def test_every_request_body_has_an_example_its_model_accepts():
    """What Swagger UI's "Try it out" starts from, and what an integrator copies: valid, for
    every operation that takes a body, in every media type it takes (JSON as the endpoint's own
    model reads it; CSV with as many values as its header names)."""
    spec = json.loads(render())
    models = _request_models()
    checked = 0
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            for media_type, body in operation.get("requestBody", {}).get("content", {}).items():
                assert "example" in body, (method, path, media_type)
                if media_type == "application/json":
                    name = body["schema"].get("$ref", "").rsplit("/", 1)[-1]
                    model = models[name or body["schema"]["title"]]
                    model.model_validate_json(json.dumps(body["example"]))
                else:
                    header, *rows = body["example"].splitlines()
                    assert rows, (path, media_type)
                    assert {len(r.split(",")) for r in rows} == {len(header.split(","))}, path
                checked += 1
    assert checked >= 20
