"""Who may do what: the one place that maps roles to actions, and the tenant rule.

Roles come from the API client table. `union` and `platform` clients are bound to one
organisation (a union org code, a platform code); they see only that organisation's objects, and
another organisation's object answers 404 exactly like one that does not exist.
Admins manage clients and platforms; they get no access to members or claims by default
(least privilege, PIPL art. 51).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from app.core.errors import NotFound


class Role(StrEnum):
    CITIZEN_APP = "citizen_app"
    UNION = "union"
    PLATFORM = "platform"
    EXAMINER = "examiner"
    FINANCE = "finance"
    ADMIN = "admin"


BOUND_ROLES = frozenset({Role.UNION, Role.PLATFORM})


class Action(StrEnum):
    PLANS_READ = "plans.read"
    CLIENTS_SELF = "clients.self"
    CLIENTS_MANAGE = "clients.manage"
    PLATFORMS_MANAGE = "platforms.manage"
    ENROLMENTS_CREATE = "enrolments.create"
    ENROLMENTS_READ = "enrolments.read"
    ENROLMENTS_REVIEW = "enrolments.review"
    PAYMENT_ORDERS_CREATE = "payment_orders.create"
    MEMBERS_LOOKUP = "members.lookup"
    MEMBERS_COVERAGE = "members.coverage"
    BATCHES_CREATE = "batches.create"
    BATCHES_READ = "batches.read"
    CLAIMS_CREATE = "claims.create"
    CLAIMS_READ = "claims.read"
    CLAIMS_QUOTE = "claims.quote"
    CLAIMS_REVIEW = "claims.review"
    MEMBERS_ACCESS_LOG = "members.access_log"
    CLAIMS_WITHDRAW = "claims.withdraw"
    CLAIMS_APPEAL = "claims.appeal"
    PLATFORM_COVERAGE = "platform.coverage"
    PLATFORM_WEBHOOKS = "platform.webhooks"
    REPORTS_READ = "reports.read"
    UNION_MEMBERS = "union.members"
    UNION_REPORTS = "union.reports"
    PAYOUT_ACCOUNTS_SET = "payout_accounts.set"
    PAYOUTS_READ = "payouts.read"
    PAYOUTS_APPROVE = "payouts.approve"
    PAYOUTS_REISSUE = "payouts.reissue"
    REFUNDS_READ = "refunds.read"
    REFUNDS_RETRY = "refunds.retry"
    FUND_READ = "fund.read"
    RECONCILIATIONS = "reconciliations"


_ALL = frozenset(Role)

POLICY: dict[Action, frozenset[Role]] = {
    Action.PLANS_READ: _ALL,
    Action.CLIENTS_SELF: _ALL,
    Action.CLIENTS_MANAGE: frozenset({Role.ADMIN}),
    Action.PLATFORMS_MANAGE: frozenset({Role.ADMIN}),
    Action.ENROLMENTS_CREATE: frozenset({Role.CITIZEN_APP}),
    Action.ENROLMENTS_READ: frozenset({Role.CITIZEN_APP, Role.EXAMINER}),
    Action.ENROLMENTS_REVIEW: frozenset({Role.EXAMINER}),
    Action.PAYMENT_ORDERS_CREATE: frozenset({Role.CITIZEN_APP}),
    Action.MEMBERS_LOOKUP: frozenset({Role.CITIZEN_APP, Role.UNION, Role.EXAMINER}),
    Action.MEMBERS_COVERAGE: frozenset({Role.CITIZEN_APP, Role.UNION, Role.EXAMINER}),
    Action.BATCHES_CREATE: frozenset({Role.UNION}),
    Action.BATCHES_READ: frozenset({Role.UNION}),
    Action.CLAIMS_CREATE: frozenset({Role.CITIZEN_APP, Role.UNION, Role.EXAMINER}),
    Action.CLAIMS_READ: frozenset({Role.CITIZEN_APP, Role.UNION, Role.EXAMINER}),
    Action.CLAIMS_QUOTE: frozenset({Role.CITIZEN_APP, Role.UNION, Role.EXAMINER}),
    Action.CLAIMS_REVIEW: frozenset({Role.EXAMINER}),
    Action.MEMBERS_ACCESS_LOG: frozenset({Role.EXAMINER}),
    # The filer's own steps (an examiner only on a claim it filed itself).
    Action.CLAIMS_WITHDRAW: frozenset({Role.CITIZEN_APP, Role.UNION, Role.EXAMINER}),
    Action.CLAIMS_APPEAL: frozenset({Role.CITIZEN_APP, Role.UNION, Role.EXAMINER}),
    Action.PLATFORM_COVERAGE: frozenset({Role.PLATFORM}),
    Action.PLATFORM_WEBHOOKS: frozenset({Role.PLATFORM}),
    Action.REPORTS_READ: frozenset({Role.EXAMINER}),
    # Section 10: a district union's own members and figures.
    Action.UNION_MEMBERS: frozenset({Role.UNION}),
    Action.UNION_REPORTS: frozenset({Role.UNION}),
    Action.PAYOUT_ACCOUNTS_SET: frozenset({Role.CITIZEN_APP, Role.UNION}),
    Action.PAYOUTS_READ: frozenset({Role.FINANCE, Role.EXAMINER}),
    # Examiners too: a second examiner may approve, never the one who decided the claim.
    Action.PAYOUTS_APPROVE: frozenset({Role.FINANCE, Role.EXAMINER}),
    Action.PAYOUTS_REISSUE: frozenset({Role.FINANCE}),
    Action.REFUNDS_READ: frozenset({Role.FINANCE}),
    Action.REFUNDS_RETRY: frozenset({Role.FINANCE}),
    Action.FUND_READ: frozenset({Role.FINANCE, Role.EXAMINER}),
    Action.RECONCILIATIONS: frozenset({Role.FINANCE}),
}


def allowed(role: Role, action: Action) -> bool:
    return role in POLICY[action]


@dataclass(frozen=True, slots=True)
class Tenant:
    """An organisation that owns objects. Union org codes and platform codes are separate
    namespaces: a platform whose code happens to equal a union's code owns nothing of it."""

    role: Role
    code: str

    @classmethod
    def union(cls, code: str) -> Tenant:
        return cls(Role.UNION, code)

    @classmethod
    def platform(cls, code: str) -> Tenant:
        return cls(Role.PLATFORM, code)


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated API client making the request."""

    client_id: uuid.UUID
    name: str
    role: Role
    org_code: str | None
    # Requests a second set for this client; None: its role's (`app.clients.rate_limit`).
    rate_limit_per_second: int | None = None

    @property
    def tenant(self) -> Tenant | None:
        """The organisation a bound caller acts for; None for unbound roles."""
        if self.role in BOUND_ROLES and self.org_code is not None:
            return Tenant(self.role, self.org_code)
        return None

    def sees(self, owner: Tenant | None) -> bool:
        """Whether an object owned by `owner` (None: no tenant) is visible to this caller.

        Fails closed: a bound role without an organisation sees nothing.
        """
        if self.role not in BOUND_ROLES:
            return True
        tenant = self.tenant
        return tenant is not None and owner == tenant

    def ensure_sees(self, owner: Tenant | None, what: str = "resource") -> None:
        """Raise the same 404 a missing object gives when the object is another tenant's."""
        if not self.sees(owner):
            raise NotFound(f"{what} not found")
