"""Locust entry point: only imports the user classes. Pick classes on the command line, e.g.
`locust -f loadtests/locustfile.py BusinessUser`; `wa-sandbox load` does this for you (docs/loadtesting.md)."""

from loadtests.users import BusinessUser, CustomerUser, RateLimitUser

__all__ = ["BusinessUser", "CustomerUser", "RateLimitUser"]
