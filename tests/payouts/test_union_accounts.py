"""A district union's payout account, set by the operator from the command line: stored
sealed (readable only with the service's key), shown masked, and a bad account refused."""

from __future__ import annotations

from app.payouts.accounts import open_sealed, union_owner
from app.payouts.models import PayoutAccount
from tests.support.clients import run_cli
from tests.support.service import TEST_DATA_KEY, TEST_LOOKUP_KEY

KEYS = {"DATA_KEY": TEST_DATA_KEY, "LOOKUP_KEY": TEST_LOOKUP_KEY}


async def test_the_operator_sets_a_unions_account(app, settings, db):
    done = run_cli(
        settings,
        *("unions", "set-account", "--org", "SH-PUDONG", "--kind", "bank"),
        *("--account-no", "6222000011112222", "--holder-name", "浦东新区总工会"),
        *("--bank-name", "工商银行"),
        env=KEYS,
    )
    refused = run_cli(
        settings,
        *("unions", "set-account", "--org", "SH-PUDONG", "--kind", "cash"),
        *("--account-no", "1", "--holder-name", "x"),
        env=KEYS,
    )

    assert done.returncode == 0, done.stderr
    assert "bank ****2222 浦******" in done.stdout
    assert "6222000011112222" not in done.stdout
    async with db.reader() as session:
        stored = await session.get(PayoutAccount, union_owner("SH-PUDONG"))
    assert stored is not None
    assert b"6222000011112222" not in stored.account_cipher
    account = open_sealed(app.state.runtime.cipher, stored.account_cipher)
    assert (account.account_no, account.bank_name) == ("6222000011112222", "工商银行")
    assert refused.returncode == 1
    assert "invalid kind, account_no" in refused.stderr
