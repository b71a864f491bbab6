"""The message texts: every kind, with every placeholder a message can take filled, says none of
what a message must never say (an illness, a disability or grade, a death, an ID number, an
amount but the payout's), and the templates file refuses placeholders that are not safe values."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from app import plans
from app.notifications.models import Kind
from app.notifications.templates import (
    PLACEHOLDERS,
    TemplateError,
    Values,
    chinese_date,
    fields_of,
    parse,
    short_ref,
    templates,
    yuan,
)
from tests.support.sms import forbidden_in

REF = uuid.UUID("0f3c9a2e-8b1d-4c7e-9a55-31f0c2d4e6b8")
EVERY_DOCUMENT = sorted(
    {
        document
        for code in plans.book().codes()
        for plan in plans.book().versions(code)
        for terms in plan.benefits.values()
        for document in terms.required_documents.value
    }
)
FILLED = Values(
    ref=REF,
    starts_on=date(2026, 11, 24),
    ends_on=date(2027, 11, 23),
    paid_on=date(2026, 12, 1),
    amount_fen=6_000_000,
    documents=tuple(EVERY_DOCUMENT),
)


@pytest.mark.parametrize("kind", list(Kind))
def test_every_kind_filled_with_everything_says_nothing_it_must_not(kind):
    text = templates().render(kind, FILLED)

    assert forbidden_in(text) == []
    assert not {"{", "}"} & set(text)
    assert text.startswith("【职工互助保障】")
    assert len(text) <= 120  # a few SMS segments at most


def test_only_the_payouts_kinds_name_an_amount():
    with_amount = {kind for kind in Kind if "60000.00" in templates().render(kind, FILLED)}

    assert with_amount == {Kind.CLAIM_APPROVED, Kind.PAYOUT_PAID}


def test_values_are_written_as_a_chinese_reader_expects():
    started = templates().render(Kind.COVER_STARTED, FILLED)
    paid = templates().render(Kind.PAYOUT_PAID, FILLED)

    assert "自2026年11月24日起生效，至2027年11月23日止" in started
    assert "编号0F3C9A2E" in paid
    assert "60000.00元已于2026年12月1日支付" in paid
    assert (yuan(5), yuan(150_000), chinese_date(date(2027, 1, 9))) == (
        "0.05",
        "1500.00",
        "2027年1月9日",
    )
    assert short_ref(REF) == "0F3C9A2E"


def test_every_document_a_plan_requires_has_a_name_and_none_says_what_happened():
    book = templates()
    named = {code: book.documents.get(code) for code in EVERY_DOCUMENT}

    assert [code for code, name in named.items() if name is None] == []
    for name in named.values():
        assert forbidden_in(name or "") == []


def test_missing_documents_are_named_once_each_and_an_unknown_type_is_never_its_code():
    text = templates().render(
        Kind.CLAIM_DOCUMENTS_NEEDED,
        Values(ref=REF, documents=("id_proof", "accident_proof", "id_proof", "organ_donor_card")),
    )

    assert "尚缺材料：身份证明、事故证明、其他材料。" in text
    assert "organ" not in text


def test_a_message_missing_a_value_it_needs_is_a_bug_not_a_message():
    with pytest.raises(ValueError, match="cover_started needs ends_on, starts_on"):
        templates().render(Kind.COVER_STARTED, Values(ref=REF))


@pytest.mark.parametrize(
    "text",
    [
        "{name}，您好",  # not a placeholder a message may take
        "{ref.hex}",  # reaching into a value
        "{amount!r}",
        "{starts_on:%Y}",
    ],
)
def test_a_template_with_anything_but_the_safe_placeholders_is_refused(text):
    with pytest.raises(TemplateError):
        fields_of(text)


def test_a_file_missing_a_kind_or_naming_an_unknown_one_is_refused():
    kinds = "\n".join(f'{kind.value} = "x{{ref}}"' for kind in Kind if kind is not Kind.REFUND_PAID)

    with pytest.raises(TemplateError, match="refund_paid"):
        parse(f'[kinds]\n{kinds}\n[documents]\nfallback = "其他材料"\n')
    with pytest.raises(TemplateError, match="unknown"):
        parse(
            f'[kinds]\n{kinds}\nrefund_paid = "x"\nsurprise = "x"\n'
            '[documents]\nfallback = "其他材料"\n'
        )


def test_the_shipped_file_uses_only_the_documented_placeholders():
    used = {name for kind in Kind for name in fields_of(templates().texts[kind])}

    assert used == PLACEHOLDERS


def test_the_check_itself_finds_what_it_looks_for():
    assert forbidden_in("确诊恶性肿瘤") == ["肿瘤", "恶性肿瘤"]
    assert forbidden_in("伤残十级") == ["伤残", "级"]
    assert forbidden_in("意外身故") == ["身故"]
    assert forbidden_in("身份证620102199005201237") == ["620102199005201237"]
