"""Shanghai's 16 districts and their district unions: the one list of them.

A worker who joins the union through the app names the district they work in (`work_district`,
its GB/T 2260 code) and becomes a member of that district's federation of trade unions (区总工会).
The unions' org codes are the ones their API clients are bound to (`mutualaid clients create
--role union --org SH-XUHUI`): `SH-` and the district's name in pinyin, without 区 or 新区
(浦东新区 is `SH-PUDONG`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class District:
    code: str  # GB/T 2260 address code
    name: str
    union_org_code: str


DISTRICTS: tuple[District, ...] = (
    District("310101", "黄浦区", "SH-HUANGPU"),
    District("310104", "徐汇区", "SH-XUHUI"),
    District("310105", "长宁区", "SH-CHANGNING"),
    District("310106", "静安区", "SH-JINGAN"),
    District("310107", "普陀区", "SH-PUTUO"),
    District("310109", "虹口区", "SH-HONGKOU"),
    District("310110", "杨浦区", "SH-YANGPU"),
    District("310112", "闵行区", "SH-MINHANG"),
    District("310113", "宝山区", "SH-BAOSHAN"),
    District("310114", "嘉定区", "SH-JIADING"),
    District("310115", "浦东新区", "SH-PUDONG"),
    District("310116", "金山区", "SH-JINSHAN"),
    District("310117", "松江区", "SH-SONGJIANG"),
    District("310118", "青浦区", "SH-QINGPU"),
    District("310120", "奉贤区", "SH-FENGXIAN"),
    District("310151", "崇明区", "SH-CHONGMING"),
)

_BY_CODE = {d.code: d for d in DISTRICTS}


def district(code: str) -> District | None:
    """The district with this GB/T 2260 code; None for any other value."""
    return _BY_CODE.get(code)
