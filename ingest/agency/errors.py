"""Errors of the agency connectors, with messages safe to log and to show.

Every message here is built from resource names, HTTP status codes, field names and counts,
never from a record's values: a traceback in Dagster's UI or a line in a log file must not
carry a citizen's name, phone number, ID number or free text (docs/privacy.md). Errors raised
inside the connector from third-party libraries (psycopg, httpx, json) are converted into
these with `from None`, so their messages (which can quote values) are not chained.
"""

from __future__ import annotations


class AgencyError(Exception):
    """Base of every connector error; `str()` is safe to log."""


class ConfigError(AgencyError):
    """The connector is not configured well enough to run (URL, token, mapping)."""


class AuthError(AgencyError):
    """The platform refused the token (401/403): retrying cannot help, the run stops."""


class ApiError(AgencyError):
    """The platform answered something unusable, or kept failing after every retry."""


class LoadError(AgencyError):
    """Writing a batch to the warehouse failed; the batch's transaction was rolled back."""


class BusyError(AgencyError):
    """Another pull of the same resource holds the lock."""


class PullFailed(AgencyError):
    """One or more resources failed; `stats` holds what every resource did before that."""

    def __init__(self, errors: dict[str, AgencyError], stats: dict) -> None:
        self.errors = errors
        self.stats = stats
        lines = [str(exc) if str(exc).startswith(f"{resource}:") else f"{resource}: {exc}"
                 for resource, exc in errors.items()]
        super().__init__("; ".join(lines))
