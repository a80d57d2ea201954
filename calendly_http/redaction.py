"""What keeps secrets and personal data out of logs and error messages."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

# Shorter "secrets" are test placeholders; replacing them would garble every message.
MIN_REDACTED_LENGTH = 6
# Query parameters that carry personal data (Calendly filters lists by them); their values are
# masked in request logs, their names kept.
PERSONAL_QUERY_FIELDS = ("email", "invitee_email", "name", "first_name", "last_name", "search")
_PERSONAL_QUERY_VALUE = re.compile(
    r"(?<=[?&])(" + "|".join(PERSONAL_QUERY_FIELDS) + r")=[^&#\s\"']*", re.IGNORECASE
)


def without_secrets(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret (of at least MIN_REDACTED_LENGTH) replaced by ***."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= MIN_REDACTED_LENGTH:
            text = text.replace(secret, "***")
    return text


def without_personal_query(text: str) -> str:
    """`text` with the value of every personal query parameter replaced by ***."""
    return _PERSONAL_QUERY_VALUE.sub(r"\1=***", text)


def without_query(url: str) -> str:
    """The URL as messages name it: no query string, which may carry personal data."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


class _PersonalQueryFilter(logging.Filter):
    """urllib3 logs each request line at DEBUG, query string included."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                without_personal_query(arg) if isinstance(arg, str) else arg for arg in record.args
            )
        return True


_REQUEST_LOG_FILTER = _PersonalQueryFilter()


def mask_personal_query_in_request_logs() -> None:
    """Install the filter on urllib3's request log (once: the same filter is added only once)."""
    logging.getLogger("urllib3.connectionpool").addFilter(_REQUEST_LOG_FILTER)
