from __future__ import annotations

import pytest

from app.core.masking import mask_id_number, mask_name, mask_phone, redact


def test_id_numbers_keep_region_and_last_four():
    assert mask_id_number("310101199001011234") == "310101********1234"
    assert mask_id_number("11010519491231002X") == "110105********002X"


def test_phones_and_names():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_name("张三丰") == "张**"


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("id=310101199001011234 refused", "310101199001011234"),
        ("lower x 11010519491231002x", "11010519491231002x"),
        ("legacy 310101900101123", "310101900101123"),
        ("call 13812345678 now", "13812345678"),
        ('{"phone":"15900001111"}', "15900001111"),
    ],
)
def test_redact_masks_personal_numbers_in_free_text(text, hidden):
    assert hidden not in redact(text)


def test_redact_leaves_ids_and_amounts_alone():
    text = "claim 6c1f3b0e-8a5d-4f5e-9a1d-2b7c9d0e1f2a paid 7200 fen at 1732400000"
    assert redact(text) == text


@pytest.mark.parametrize(
    "text",
    ["+8613812345678", "8613812345678", "138-1234-5678", "138 1234 5678", "+86 138 1234 5678"],
)
def test_phones_in_other_spellings_are_masked(text):
    assert "1234" not in redact(text).replace("****", "")
    assert "5678" in redact(text)


def test_a_number_after_a_newline_is_masked_in_a_log_line():
    import logging

    from app.core.logging import JsonFormatter

    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "first line\n310101199001011234", None, None
    )
    assert "310101199001011234" not in JsonFormatter().format(record)
