"""Webhooks leave through here: events become Meta's payloads, are signed, queued and delivered with retries."""
