"""One calculator per benefit, looked up by benefit code."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from app.rules.benefits.accident_condolence import accident_condolence
from app.rules.benefits.accidental_disability import accidental_disability
from app.rules.benefits.base import Assessment, BenefitCalculator, BenefitContext
from app.rules.benefits.critical_illness import critical_illness
from app.rules.benefits.critical_illness_medical import critical_illness_medical
from app.rules.benefits.deaths import accidental_death, illness_death
from app.rules.benefits.hospital_allowance import hospital_allowance
from app.rules.vocabulary import (
    ACCIDENT_CONDOLENCE,
    ACCIDENTAL_DEATH,
    ACCIDENTAL_DISABILITY,
    BENEFITS,
    CRITICAL_ILLNESS,
    CRITICAL_ILLNESS_MEDICAL,
    HOSPITAL_ALLOWANCE,
    ILLNESS_DEATH,
)

CALCULATORS: Mapping[str, BenefitCalculator] = MappingProxyType(
    {
        HOSPITAL_ALLOWANCE: hospital_allowance,
        CRITICAL_ILLNESS: critical_illness,
        CRITICAL_ILLNESS_MEDICAL: critical_illness_medical,
        ILLNESS_DEATH: illness_death,
        ACCIDENTAL_DEATH: accidental_death,
        ACCIDENTAL_DISABILITY: accidental_disability,
        ACCIDENT_CONDOLENCE: accident_condolence,
    }
)
assert set(CALCULATORS) == BENEFITS

__all__ = ["CALCULATORS", "Assessment", "BenefitCalculator", "BenefitContext"]
