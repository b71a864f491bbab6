"""The committed OpenAPI spec is usable by client teams: a client generated from
`openapi/openapi.json` with the standard `openapi-python-client` drives enrolment, payment,
the gateway's signed notification and a claim end to end, and its models parse every response.

The client is generated once per session into a temporary directory (outside the repository, so
ruff and mypy never see it) and imported from there. It talks to the real app in process: its own
httpx.AsyncClient is built by the generated `Client` with an ASGI transport (`httpx_args`), so the
generated code also sets the bearer token. The service's clock is a setting, so "later" is a
second app on the same database with a later `MUTUALAID_CLOCK` (as `client_at` does for the
enrolment tests). Both databases.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
import json
import re
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs
import httpx
import pytest

from app.core.clock import SHANGHAI
from app.core.policy import Role
from app.main import create_app
from app.platforms.service import add_platform
from app.platforms.simulator import create_simulator
from tests.support.claims import DEMO_PLATFORM
from tests.support.rules import id_number
from tests.support.service import TEST_PAYMENT_SECRET, make_settings

SPEC = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
PACKAGE = "mutualaid_e2e_client"
# What the generator cannot express and says so; anything else it warns about is a finding.
# (openapi-python-client has no `text/csv` request bodies: the JSON form of the batch upload is
# still generated; the reconciliation upload, a CSV bill only, is not.)
TOLERATED_WARNINGS = {
    "WARNING parsing POST /v1/enrolment-batches within enrolment_batches.",
    "WARNING parsing POST /v1/reconciliations within reconciliation. "
    "Endpoint will not be generated.",
}

PLAN_CODE = "shanghai-new-employment-e"
APPLIED_AT = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)
PAID_AT = APPLIED_AT + timedelta(minutes=20)
FIRST_DAY, LAST_DAY = date(2026, 11, 24), date(2027, 11, 23)
# After the illness waiting period (to 23 December): an accident stay inside it would go to an
# examiner (tests/claims/test_rules_that_paid_too_much.py).
CLAIMED_AT = datetime(2027, 1, 15, 10, 0, tzinfo=SHANGHAI)
ACCIDENT_ON, DISCHARGED_ON = date(2027, 1, 5), date(2027, 1, 12)  # 7 nights in hospital
RIDER = id_number(date(1990, 5, 20), address="620102", sequence="517")


# -- the generated client ------------------------------------------------------------------


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    """Generate the client from the committed spec and import it."""
    workdir = tmp_path_factory.mktemp("generated-client")
    config = workdir / "config.json"
    # No post hooks: nothing outside the venv runs (the default hooks call `ruff`).
    config.write_text(json.dumps({"package_name_override": PACKAGE, "post_hooks": []}))
    executable = Path(sys.executable).parent / "openapi-python-client"
    started = time.perf_counter()
    result = subprocess.run(
        [
            str(executable),
            "generate",
            "--path",
            str(SPEC),
            "--meta",
            "none",
            "--config",
            str(config),
            "--output-path",
            str(workdir / PACKAGE),
        ],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    print(f"openapi-python-client generated the client in {time.perf_counter() - started:.2f}s")
    assert result.returncode == 0, output
    warnings = {
        line.strip()
        for line in output.splitlines()
        if line.startswith(("WARNING", "ERROR", "Unable to parse"))
    }
    assert warnings <= TOLERATED_WARNINGS, output

    # Every operation of the spec became a function (a dropped operation is a spec problem).
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    operations = {
        re.sub(r"[^a-z0-9]+", "_", op["operationId"].lower())
        for path in spec["paths"].values()
        for op in path.values()
        if set(op.get("requestBody", {}).get("content", {"none": 0})) != {"text/csv"}
    }
    modules = {p.stem for p in (workdir / PACKAGE / "api").rglob("*.py")}
    assert operations <= modules, sorted(operations - modules)

    sys.path.insert(0, str(workdir))
    try:
        importlib.import_module(f"{PACKAGE}.models")  # the package's `models` attribute
        return importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(workdir))


def operation(client: ModuleType, tag: str, name: str) -> ModuleType:
    return importlib.import_module(f"{client.__name__}.api.{tag}.{name}")


async def call(op: ModuleType, status: int, **kwargs: Any) -> Any:
    """`op.asyncio_detailed(...)`: the status must be `status`; the parsed model is returned."""
    response = await op.asyncio_detailed(**kwargs)
    assert response.status_code == status, response.content
    assert_parsed(response.parsed)
    return response.parsed


def assert_parsed(value: Any, where: str = "response") -> None:
    """Every object the spec promises is a generated model: no raw dicts left by a union that
    failed to parse, and no undocumented fields caught in `additional_properties` (free-form
    objects such as `facts`, which the spec leaves open, are the exception)."""
    assert not isinstance(value, dict), f"{where} is a raw dict: {value!r}"
    if isinstance(value, list):
        for i, item in enumerate(value):
            assert_parsed(item, f"{where}[{i}]")
    elif attrs.has(type(value)):
        declared = [f.name for f in attrs.fields(type(value)) if f.name != "additional_properties"]
        extra = getattr(value, "additional_properties", {})
        assert not (declared and extra), f"{where} has undocumented fields {sorted(extra)}"
        for name in declared:
            assert_parsed(getattr(value, name), f"{where}.{name}")


# -- the service at a given moment -----------------------------------------------------------


def rider(moment: datetime) -> dict[str, Any]:
    return {
        "platform_worker_id": "rider-e2e",
        "id_number": RIDER,
        "name": "马小龙",
        "city": "shanghai",
        "work_type": "food_delivery",
        "orders_last_7_days": 30,
        "last_order_at": (moment - timedelta(hours=1)).isoformat(),
    }


@pytest.fixture
async def demo_platform(db: Any, app: Any) -> None:
    async with db.writer() as session:
        await add_platform(session, app.state.runtime.cipher, DEMO_PLATFORM, None)
        await session.commit()


def sign_gateway_notifications(secret: str) -> Callable[[httpx.Request], Any]:
    """An httpx request hook playing the payment gateway: it signs the exact bytes on the wire,
    `t=<unix>,v1=<hex HMAC-SHA256 of "t.rawbody">`. The spec cannot describe a signature over the
    raw body, so the generated function is given a placeholder `x_signature` (the spec marks the
    header required) and the hook replaces it with the signature of the bytes sent."""

    async def sign(request: httpx.Request) -> None:
        if request.url.path == "/v1/payment-notifications":
            timestamp = int(time.time())
            digest = hmac.new(
                secret.encode(), f"{timestamp}.".encode() + request.read(), hashlib.sha256
            ).hexdigest()
            request.headers["X-Signature"] = f"t={timestamp},v1={digest}"

    return sign


@pytest.fixture
def service_at(
    settings: Any, test_var_dir: Path, db: Any, generated: ModuleType, demo_platform: None
):
    """`async with service_at(moment, key) as (client, gateway):` generated clients (the
    citizen app's, authenticated, and the gateway's) for the real app on the session's database,
    with the service's clock at `moment`."""

    @asynccontextmanager
    async def open_service(moment: datetime, key: str) -> AsyncIterator[tuple[Any, Any]]:
        application = create_app(
            make_settings(settings.database_url, test_var_dir, MUTUALAID_CLOCK=moment.isoformat())
        )
        runtime = application.state.runtime
        await runtime.http.aclose()
        platform_api = httpx.ASGITransport(app=create_simulator([rider(moment)]))
        application.state.runtime = replace(
            runtime, http=httpx.AsyncClient(mounts={"http://platform.test": platform_api})
        )
        transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
        citizen = generated.AuthenticatedClient(
            base_url="http://testserver",
            token=key,
            raise_on_unexpected_status=True,
            httpx_args={"transport": transport},
        )
        gateway = generated.Client(
            base_url="http://testserver",
            raise_on_unexpected_status=True,
            httpx_args={
                "transport": transport,
                "event_hooks": {"request": [sign_gateway_notifications(TEST_PAYMENT_SECRET)]},
            },
        )
        try:
            async with citizen, gateway:
                yield citizen, gateway
        finally:
            await application.state.runtime.close()

    return open_service


# -- the journey --------------------------------------------------------------------------------


async def test_a_generated_client_enrols_pays_and_claims(generated, service_at, api_key):
    models = generated.models
    key = await api_key(Role.CITIZEN_APP, name="suishenban")

    # 23 November 2026: the citizen app applies, opens the payment order, the gateway pays it.
    async with service_at(APPLIED_AT, key) as (citizen, gateway):
        application = models.EnrolmentIn(
            plan_code=PLAN_CODE,
            id_number=RIDER,
            name="马小龙",
            phone="13812345678",
            platform_code="demo-delivery",
            platform_worker_id="rider-e2e",
            work_type="food_delivery",
            work_district="310104",
            union=models.UnionMembership(join=True),
            consent=models.Consent(sensitive_personal_data=True),
        )
        apply = operation(generated, "enrolments", "enrolments_apply")
        idempotency_key = str(uuid.uuid4())
        enrolment = await call(
            apply, 201, client=citizen, body=application, idempotency_key=idempotency_key
        )
        replayed = await call(
            apply, 201, client=citizen, body=application, idempotency_key=idempotency_key
        )

        assert isinstance(enrolment, models.EnrolmentOut)
        assert enrolment.status == models.EnrolmentOutStatus.AWAITING_PAYMENT
        assert enrolment.applied_on == date(2026, 11, 23)
        assert replayed.id == enrolment.id
        assert RIDER not in enrolment.member.to_dict().values()  # masked

        order = await call(
            operation(generated, "payments", "payments_create_payment_order"),
            201,
            client=citizen,
            enrolment_id=enrolment.id,
            idempotency_key=str(uuid.uuid4()),
        )
        assert isinstance(order, models.PaymentOrderOut)
        assert (order.amount_fen, order.status) == (7200, models.PaymentOrderOutStatus.OPEN)
        assert order.enrolment_id == enrolment.id

        notification = models.PaymentsPaymentNotificationPaymentNotificationIn(
            event_id=f"evt-{uuid.uuid4()}",
            payment_order_id=order.id,
            status=models.PaymentsPaymentNotificationPaymentNotificationInStatus.SUCCEEDED,
            amount_fen=order.amount_fen,
            paid_at=PAID_AT,
            channel="alipay",
        )
        paid = await call(
            operation(generated, "payments", "payments_payment_notification"),
            200,
            client=gateway,
            body=notification,
            x_signature="signed on the wire by the hook",
        )
        assert isinstance(paid, models.PaymentNotificationOut)
        assert paid.outcome == models.PaymentNotificationOutOutcome.ACTIVATED
        assert isinstance(paid.coverage, models.CoverageOut)
        assert (paid.coverage.starts_on, paid.coverage.ends_on) == (FIRST_DAY, LAST_DAY)

        seen = await call(
            operation(generated, "enrolments", "enrolments_get_enrolment"),
            200,
            client=citizen,
            enrolment_id=enrolment.id,
        )
        assert seen.status == models.EnrolmentOutStatus.PAID

    # 15 January 2027, cover in force: the rider fell on 5 January and spent 7 nights in
    # hospital. The citizen app files the condolence and the hospital allowance for it.
    async with service_at(CLAIMED_AT, key) as (citizen, _):
        plan = await call(
            operation(generated, "plans", "plans_get_one_plan"),
            200,
            client=citizen,
            plan_code=PLAN_CODE,
        )
        required = {b.code: b.required_documents.value for b in plan.benefits}

        def documents(benefit: str) -> list[Any]:
            return [
                models.DocumentIn(
                    type_=kind, ref=f"scan-{kind}", sha256=hashlib.sha256(kind.encode()).hexdigest()
                )
                for kind in required[benefit]
            ]

        accident = models.EventIn(
            kind=models.EventInKind.ACCIDENT, occurred_on=ACCIDENT_ON, ref="fall-e2e"
        )
        file_claim = operation(generated, "claims", "claims_file_claim")
        condolence = await call(
            file_claim,
            201,
            client=citizen,
            idempotency_key=str(uuid.uuid4()),
            body=models.ClaimIn(
                member_id=enrolment.member_id,
                benefit=models.ClaimInBenefit.ACCIDENT_CONDOLENCE,
                event=accident,
                documents=documents("accident_condolence"),
            ),
        )
        hospital = await call(
            file_claim,
            201,
            client=citizen,
            idempotency_key=str(uuid.uuid4()),
            body=models.ClaimIn(
                member_id=enrolment.member_id,
                benefit=models.ClaimInBenefit.HOSPITAL_ALLOWANCE,
                event=accident,
                facts=models.FactsIn(admitted_on=ACCIDENT_ON, discharged_on=DISCHARGED_ON),
                documents=documents("hospital_allowance"),
            ),
        )

        for filed, payable in ((condolence, 50_000), (hospital, 7 * 10_000)):
            assert isinstance(filed, models.ClaimOut)
            assert filed.status == models.ClaimStatus.APPROVED
            assert isinstance(filed.decision, models.DecisionOut)
            assert filed.decision.outcome == models.DecisionOutOutcome.APPROVED
            assert filed.decision.payable_fen == payable
            assert filed.decision.reasons == []
            assert filed.filed_on == CLAIMED_AT.date()
            assert filed.missing_documents == []

        read = await call(
            operation(generated, "claims", "claims_get_claim"),
            200,
            client=citizen,
            claim_id=hospital.id,
        )
        assert isinstance(read, models.ClaimOut)
        assert (read.id, read.member_id) == (hospital.id, enrolment.member_id)
        assert read.benefit == models.ClaimOutBenefit.HOSPITAL_ALLOWANCE
        assert read.status == models.ClaimStatus.APPROVED
        assert read.decision.payable_fen == 70_000
        assert [line.amount_fen for line in read.decision.lines if line.kind == "payable"] == [
            70_000
        ]
        assert read.event.occurred_on == ACCIDENT_ON
        assert read.facts.to_dict() == {
            "admitted_on": ACCIDENT_ON.isoformat(),
            "discharged_on": DISCHARGED_ON.isoformat(),
        }
        assert isinstance(read.history, list)
        assert read.history, "GET /v1/claims/{id} carries the claim's history"
        assert read.history[-1].to_status == "approved"

        cover = await call(
            operation(generated, "members", "members_coverage"),
            200,
            client=citizen,
            member_id=enrolment.member_id,
        )
        assert isinstance(cover, models.CoverageView)
        assert cover.covered_today is True
        [period] = cover.periods
        assert (period.starts_on, period.ends_on) == (FIRST_DAY, LAST_DAY)
        used = {b.benefit: b.used_fen for b in period.benefits}
        assert used["accident_condolence"] == 50_000
        assert used["hospital_allowance"] == 70_000
        assert period.ceiling.used_fen == 120_000
        assert period.ceiling.remaining_fen == 72_000_000 - 120_000
