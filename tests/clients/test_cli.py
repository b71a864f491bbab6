"""`mutualaid clients ...` and `mutualaid demo`, run as a real process against the test database."""

from __future__ import annotations

import json
import os
import subprocess

from sqlalchemy import select

from app.clients.models import ApiClient
from tests.support.clients import MUTUALAID, run_cli
from tests.support.service import bearer


async def test_create_prints_a_key_that_works_and_is_stored_only_hashed(client, db, settings):
    result = run_cli(
        settings,
        "clients",
        "create",
        "--role",
        "union",
        "--org",
        "SH-PUDONG",
        "--rate-limit",
        "35",
        "--json",
    )

    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    assert created["role"] == "union"
    assert created["org_code"] == "SH-PUDONG"
    assert created["rate_limit_per_second"] == 35
    me = await client.get("/v1/clients/me", headers=bearer(created["api_key"]))
    assert me.status_code == 200
    assert me.json()["id"] == created["id"]
    async with db.reader() as session:
        row = (await session.scalars(select(ApiClient))).one()
    stored = " ".join(str(getattr(row, c.key)) for c in ApiClient.__table__.columns)
    assert created["api_key"] not in stored
    assert row.key_prefix == created["api_key"][:12]
    assert row.rate_limit_per_second == 35


async def test_bound_roles_need_an_org_and_others_refuse_one(client, settings):
    no_org = run_cli(settings, "clients", "create", "--role", "platform")
    stray_org = run_cli(settings, "clients", "create", "--role", "examiner", "--org", "X")
    bad_role = run_cli(settings, "clients", "create", "--role", "superuser")

    assert no_org.returncode == 1
    assert "must be bound" in no_org.stderr
    assert stray_org.returncode == 1
    assert bad_role.returncode == 2


async def test_list_shows_prefixes_and_revoke_disables_the_key(client, settings):
    created = json.loads(
        run_cli(settings, "clients", "create", "--role", "examiner", "--json").stdout
    )

    listed = run_cli(settings, "clients", "list")
    revoked = run_cli(settings, "clients", "revoke", created["id"])
    after = await client.get("/v1/clients/me", headers=bearer(created["api_key"]))

    assert created["id"] in listed.stdout
    assert created["api_key"][:12] in listed.stdout
    assert created["api_key"] not in listed.stdout
    assert revoked.returncode == 0
    assert after.status_code == 401


async def test_demo_prints_a_working_key_per_role_and_rotates_on_rerun(client, settings):
    first = run_cli(settings, "demo")
    second = run_cli(settings, "demo")

    assert first.returncode == 0, first.stderr
    keys = [line.split()[-1] for line in first.stdout.splitlines() if "mak_" in line]
    assert len(keys) == 6  # one per role: citizen app, union, platform, examiner, finance, admin
    roles = set()
    for key in keys:
        me = await client.get("/v1/clients/me", headers=bearer(key))
        assert me.status_code == 401  # rotated by the second run
    for key in [line.split()[-1] for line in second.stdout.splitlines() if "mak_" in line]:
        me = await client.get("/v1/clients/me", headers=bearer(key))
        assert me.status_code == 200
        roles.add(me.json()["role"])
    assert roles == {"citizen_app", "union", "platform", "examiner", "finance", "admin"}


async def test_demo_is_refused_in_production(client, settings):
    result = run_cli(
        settings,
        "demo",
        env={
            "MUTUALAID_ENV": "production",
            "DATA_KEY": "k" * 43,
            "LOOKUP_KEY": "l" * 43,
            "PAYMENT_NOTIFICATION_SECRETS": "s",
        },
    )

    assert result.returncode == 2
    assert "refused in production" in result.stderr


def test_production_without_keys_fails_at_start_naming_them(tmp_path):
    result = subprocess.run(
        [MUTUALAID, "migrate"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={
            "PATH": os.environ.get("PATH", ""),
            "MUTUALAID_ENV": "production",
            "DATABASE_URL": f"sqlite:///{tmp_path}/p.db",
        },
    )

    assert result.returncode == 2
    assert "DATA_KEY" in result.stderr
    assert "LOOKUP_KEY" in result.stderr


async def test_idempotency_purge_runs(client, settings):
    result = run_cli(settings, "idempotency", "purge", "--older-than-hours", "1")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("purged 0 idempotency key(s) older than 1 h")
