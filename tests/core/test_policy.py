"""The role table is the design contract's (shared/design.md section 5), action by action."""

from __future__ import annotations

import uuid

import pytest

from app.core.errors import NotFound
from app.core.policy import POLICY, Action, Caller, Role, Tenant, allowed

C, U, P, E, A = Role.CITIZEN_APP, Role.UNION, Role.PLATFORM, Role.EXAMINER, Role.ADMIN
F = Role.FINANCE

CONTRACT = {
    Action.PLANS_READ: {C, U, P, E, F, A},
    Action.ENROLMENTS_CREATE: {C},
    Action.ENROLMENTS_READ: {C, E},
    Action.ENROLMENTS_REVIEW: {E},
    Action.PAYMENT_ORDERS_CREATE: {C},
    Action.MEMBERS_LOOKUP: {C, U, E},
    Action.MEMBERS_COVERAGE: {C, U, E},
    Action.BATCHES_CREATE: {U},
    Action.BATCHES_READ: {U},
    Action.CLAIMS_CREATE: {C, U, E},
    Action.CLAIMS_READ: {C, U, E},
    Action.CLAIMS_QUOTE: {C, U, E},
    Action.CLAIMS_REVIEW: {E},
    # Section 9: the filer withdraws or appeals its own claim.
    Action.MEMBERS_ACCESS_LOG: {E},
    Action.CLAIMS_WITHDRAW: {C, U, E},
    Action.CLAIMS_APPEAL: {C, U, E},
    Action.PLATFORM_COVERAGE: {P},
    Action.PLATFORM_WEBHOOKS: {P},
    Action.REPORTS_READ: {E},
    # Section 10: a district union's own members and figures.
    Action.UNION_MEMBERS: {U},
    Action.UNION_REPORTS: {U},
    Action.PLATFORMS_MANAGE: {A},
    Action.CLIENTS_MANAGE: {A},
    Action.CLIENTS_SELF: {C, U, P, E, F, A},
    # Section 8: the finance office's actions.
    Action.PAYOUT_ACCOUNTS_SET: {C, U},
    Action.PAYOUTS_READ: {F, E},
    Action.PAYOUTS_APPROVE: {F, E},
    Action.PAYOUTS_REISSUE: {F},
    Action.REFUNDS_READ: {F},
    Action.REFUNDS_RETRY: {F},
    Action.FUND_READ: {F, E},
    Action.RECONCILIATIONS: {F},
}


def test_every_action_has_a_rule():
    assert set(POLICY) == set(Action)


@pytest.mark.parametrize("action", list(Action))
def test_roles_match_the_contract(action):
    assert {role for role in Role if allowed(role, action)} == CONTRACT[action]


def test_admins_get_no_personal_data_by_default():
    personal = {
        Action.MEMBERS_LOOKUP,
        Action.MEMBERS_COVERAGE,
        Action.CLAIMS_READ,
        Action.UNION_MEMBERS,
    }
    assert not any(allowed(Role.ADMIN, action) for action in personal)


def test_bound_callers_see_only_their_organisation():
    union = Caller(uuid.uuid4(), "u", Role.UNION, "SH-PUDONG")
    examiner = Caller(uuid.uuid4(), "e", Role.EXAMINER, None)

    platform = Caller(uuid.uuid4(), "p", Role.PLATFORM, "SH-PUDONG")

    assert union.sees(Tenant.union("SH-PUDONG"))
    assert not union.sees(Tenant.union("SH-XUHUI"))
    assert not union.sees(None)
    assert examiner.sees(Tenant.union("SH-XUHUI"))
    assert not platform.sees(Tenant.union("SH-PUDONG")), "same code, different kind of tenant"
    assert platform.sees(Tenant.platform("SH-PUDONG"))
    with pytest.raises(NotFound):
        union.ensure_sees(Tenant.union("SH-XUHUI"))


def test_a_bound_role_without_an_organisation_sees_nothing():
    orphan = Caller(uuid.uuid4(), "u", Role.UNION, None)
    assert not orphan.sees(Tenant.union("SH-PUDONG"))
    assert not orphan.sees(None)
