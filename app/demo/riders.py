"""The demo world's people: riders of the demo platform, their ID numbers and accounts.

All made up. ID numbers are valid (the check character is computed); an odd sequence number is
a man's, an even one a woman's, as on a real card. The README's `rider-001` is not among them:
it is left for newcomers to enrol.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Any

from app.rules.id_numbers import check_character

PLATFORM = "demo-delivery"


@dataclass(frozen=True)
class Rider:
    worker_id: str
    name: str
    id_number: str
    work_type: str
    # The district (GB/T 2260) the rider works in and whose union they join; None: they give a
    # union number instead.
    district: str | None

    @property
    def phone(self) -> str:
        return "139" + "".join(c for c in self.worker_id if c.isdigit()).zfill(8)

    def platform_record(self) -> dict[str, Any]:
        """What the platform knows of the rider (the simulator adds the last order's time)."""
        return {
            "platform_worker_id": self.worker_id,
            "id_number": self.id_number,
            "name": self.name,
            "city": "shanghai",
            "work_type": self.work_type,
            "orders_last_7_days": 35,
        }

    def csv_row(self, ref: str) -> str:
        return (
            f"{ref},{self.id_number},{self.name},{self.phone},{PLATFORM},{self.worker_id},"
            f"{self.work_type},PD-{self.worker_id}"
        )


def id_number(address: str, born: date, sequence: int) -> str:
    first17 = f"{address}{born:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)


def _riders(table: str) -> tuple[Rider, ...]:
    """worker id, name, ID number's address code, birth date and sequence, work type, and the
    district whose union they join (`-`: none)."""
    riders = []
    for line in table.strip().splitlines():
        worker_id, name, address, born, sequence, work_type, district = line.split()
        number = id_number(address, date.fromisoformat(born), int(sequence))
        riders.append(
            Rider(worker_id, name, number, work_type, None if district == "-" else district)
        )
    return tuple(riders)


# Apply through the government app four months ago; the last one pays twice.
APPLICANTS = _riders("""
rider-101 周杰 310115 1991-03-02 011 food_delivery    310115
rider-102 吴敏 310115 1988-07-19 022 instant_delivery 310115
rider-103 郑浩 310104 1995-01-08 033 food_delivery    310104
rider-104 孙悦 310106 1993-10-30 044 ride_hailing     310106
rider-105 朱磊 320102 1985-05-16 055 express_delivery -
rider-106 胡婷 310112 1990-12-01 066 food_delivery    310112
rider-107 林峰 310115 1987-04-23 077 food_delivery    310115
rider-108 何静 310110 1996-08-14 088 instant_delivery 310110
""")
# Applies today and has not paid yet.
(LATECOMER,) = _riders("rider-109 黄勇 310113 1994-02-09 099 food_delivery 310113")
# In the Pudong union's batch two days later: accepted, then one too old (60 or over) and one
# the platform does not know.
UNION_MEMBERS = _riders("""
rider-201 徐明 310115 1989-06-05 101 food_delivery    310115
rider-202 高丽 310115 1992-09-17 102 instant_delivery 310115
rider-203 罗军 310115 1984-11-22 103 express_delivery 310115
rider-204 梁雪 310115 1997-02-28 104 food_delivery    310115
rider-205 宋涛 310115 1983-03-12 105 ride_hailing     310115
rider-206 唐颖 310115 1999-07-07 106 food_delivery    310115
""")
TOO_OLD, NOT_ON_PLATFORM = _riders("""
rider-207 冯建华 310115 1955-01-20 107 food_delivery 310115
rider-208 曹阳   310115 1990-04-04 109 food_delivery 310115
""")
# A row whose ID number has a wrong check character.
MISTYPED = "310115199001011234,韩伟,13900000210,demo-delivery,rider-210,food_delivery,PD-rider-210"


def document(kind: str, worker_id: str) -> dict[str, str]:
    """A scanned document: its type, the filer's reference, and the file's SHA-256."""
    ref = f"scan-{worker_id}-{kind}"
    return {"type": kind, "ref": ref, "sha256": hashlib.sha256(ref.encode()).hexdigest()}


def account(kind: str, number: str, holder: str) -> dict[str, str]:
    bank = {"bank_name": "工商银行"} if kind == "bank" else {}
    return {"kind": kind, "account_no": number, "holder_name": holder} | bank
