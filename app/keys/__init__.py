"""Key rotation: moving every encrypted value to the current `DATA_KEY` (online), and every
look-up hash to the current `LOOKUP_KEY` (offline)."""
