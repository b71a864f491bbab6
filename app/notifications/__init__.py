"""Short messages to workers: an outbox written with the event, sent by jobs through the SMS
gateway, at most once per event and within a daily cap per phone."""
