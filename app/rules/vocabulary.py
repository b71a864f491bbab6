"""The closed vocabulary every rule and every API speaks: benefits, work types, event kinds."""

from __future__ import annotations

from typing import Final

HOSPITAL_ALLOWANCE: Final = "hospital_allowance"
CRITICAL_ILLNESS: Final = "critical_illness"
CRITICAL_ILLNESS_MEDICAL: Final = "critical_illness_medical"
ILLNESS_DEATH: Final = "illness_death"
ACCIDENTAL_DEATH: Final = "accidental_death"
ACCIDENTAL_DISABILITY: Final = "accidental_disability"
ACCIDENT_CONDOLENCE: Final = "accident_condolence"

# In the order the plan's announcement lists them.
BENEFIT_ORDER: Final = (
    HOSPITAL_ALLOWANCE,
    CRITICAL_ILLNESS,
    CRITICAL_ILLNESS_MEDICAL,
    ILLNESS_DEATH,
    ACCIDENTAL_DEATH,
    ACCIDENTAL_DISABILITY,
    ACCIDENT_CONDOLENCE,
)
BENEFITS: Final = frozenset(BENEFIT_ORDER)
DEATH_BENEFITS: Final = frozenset({ILLNESS_DEATH, ACCIDENTAL_DEATH})

WORK_TYPES: Final = frozenset(
    {"ride_hailing", "food_delivery", "instant_delivery", "same_city_freight", "express_delivery"}
)

ACCIDENT: Final = "accident"
ILLNESS: Final = "illness"
EVENT_KINDS: Final = frozenset({ACCIDENT, ILLNESS})

SEVERE: Final = "severe"
MILD: Final = "mild"
SEVERITIES: Final = frozenset({SEVERE, MILD})
