"""Claims: filing, documents, examiner review and quotes, each walking load (`context`), decide
(`app.rules.assessment`), record (`recording`); and the payout ledger with its notifications."""
