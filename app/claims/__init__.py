"""Claims: filing, adjudication on the rules core, examiner review, payouts and usage counters."""
