"""The audit trail: every state change, who made it, when, under which request."""
