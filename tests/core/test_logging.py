"""Logs are JSON lines with the request id, and never carry personal data."""

from __future__ import annotations

import json
import logging

from app.core.logging import JsonFormatter
from app.core.policy import Role
from tests.support.service import bearer


async def test_access_log_names_the_route_template_not_the_url(probe_client, api_key, caplog):
    key = await api_key(Role.UNION, "310101199001011234")
    with caplog.at_level(logging.INFO, logger="mutualaid.access"):
        response = await probe_client.get(
            "/v1/probes/orgs/310101199001011234/thing?phone=13812345678", headers=bearer(key)
        )

    [record] = [r for r in caplog.records if r.name == "mutualaid.access"]
    line = json.loads(JsonFormatter().format(record))
    assert response.status_code == 200
    assert line["route"] == "/v1/probes/orgs/{org_code}/thing"
    assert line["status"] == 200
    assert line["method"] == "GET"
    assert line["request_id"] == response.headers["x-request-id"]
    assert line["client_id"]
    assert "310101199001011234" not in json.dumps(line)
    assert "13812345678" not in json.dumps(line)


def test_personal_numbers_in_any_message_are_masked():
    record = logging.LogRecord(
        "anything",
        logging.WARNING,
        __file__,
        1,
        "lookup of %s / %s failed",
        ("11010519491231002X", "13812345678"),
        None,
    )
    line = JsonFormatter().format(record)

    assert "11010519491231002X" not in line
    assert "13812345678" not in line
    assert json.loads(line)["msg"] == "lookup of 110105********002X / 138****5678 failed"


def test_request_ids_never_read_as_personal_numbers():
    """A hex UUID sometimes holds 11 digits that look like a mobile number (`...13840294303...`);
    the log redaction would mask the id an operator searches for."""
    from app.core.masking import redact
    from app.core.middleware import new_request_id

    assert redact("05e6e13840294303a9af8cf805ebf3c3") != "05e6e13840294303a9af8cf805ebf3c3"
    for _ in range(5000):
        request_id = new_request_id()
        assert redact(request_id) == request_id


def test_log_lines_are_written_in_batches_and_warnings_at_once():
    import io
    import time

    from app.core.logging import BatchedStreamHandler

    stream = io.StringIO()
    handler = BatchedStreamHandler(stream, interval=0.5)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("tests.batched")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("before")
        logger.info("one")
        logger.info("two")
        waiting = stream.getvalue()
        logger.error("three")
        at_error = stream.getvalue()
        logger.info("four")
        deadline = time.monotonic() + 2
        while "four" not in stream.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        logger.removeHandler(handler)
        handler.close()

    assert waiting == "before\n"
    assert at_error == "before\none\ntwo\nthree\n"
    assert stream.getvalue() == "before\none\ntwo\nthree\nfour\n"


def test_personal_numbers_in_fields_are_masked_whatever_their_type():
    record = logging.LogRecord("anything", logging.INFO, __file__, 1, "sent", (), None)
    record.phone = 13812345678
    record.note = "call 138 1234 5678"
    record.attempts = 3

    line = json.loads(JsonFormatter().format(record))

    assert line["phone"] == "138****5678"
    assert line["note"] == "call 138****5678"
    assert line["attempts"] == 3
