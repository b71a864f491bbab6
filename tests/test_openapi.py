"""The committed spec is what the app generates (`make openapi` regenerates it)."""

from __future__ import annotations

import json
from pathlib import Path

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
