"""Who an approved benefit is paid to.

Living members are paid themselves. A death benefit goes where the plan's `payee` says: to a
beneficiary, or to the district union's account for a member enrolled through a union (a member
with no union falls back to the beneficiary).
"""

from __future__ import annotations

from typing import Final

from app.rules.plan import Plan

MEMBER: Final = "member"
BENEFICIARY: Final = "beneficiary"
DISTRICT_UNION: Final = "district_union"


def payee_for(plan: Plan, benefit: str, union_org_code: str | None) -> str:
    terms = plan.benefit(benefit)
    if "payee" not in terms.params:
        return MEMBER
    chosen = terms.str_param("payee")
    if chosen == DISTRICT_UNION and union_org_code is None:
        return BENEFICIARY
    return chosen
