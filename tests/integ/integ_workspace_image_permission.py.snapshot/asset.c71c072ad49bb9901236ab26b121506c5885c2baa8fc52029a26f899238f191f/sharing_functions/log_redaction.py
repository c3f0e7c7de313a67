"""Keep CloudFormation's ResponseURL out of every log line, at every level."""

from __future__ import annotations

import logging
import re
from typing import Any

REDACTED = "<presigned URL redacted>"
# Any URL with a query string: presigned URLs carry their signature there.
_URL_WITH_QUERY = re.compile(r"""https?://[^\s'"<>?]+\?[^\s'"<>]*""")

_installed = False


def redact(text: str) -> str:
    """``text`` with every URL that has a query string replaced by ``REDACTED``."""
    return _URL_WITH_QUERY.sub(REDACTED, text)


def install() -> None:
    """Redact every log record made in this process from now on (idempotent)."""
    global _installed
    if _installed:
        return
    make_record = logging.getLogRecordFactory()

    def redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: leave it to logging's own error reporting
            return record
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return record

    logging.setLogRecordFactory(redacting_factory)
    _installed = True
