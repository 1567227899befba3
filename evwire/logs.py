"""Logging for the CLI and the web app: stdlib logging, plain text or one JSON object per line.

    configure_logging(settings)      # EVWIRE_LOG_FORMAT=text|json, EVWIRE_LOG_LEVEL=INFO

Ids travel as ``extra``: ``log.info("stored", extra={"feed_id": 3, "duration_ms": 12})``. The JSON
format puts them at the top level of the object; the text format appends them as ``key=value``.
Called once at the edge (``evwire`` CLI, ``create_app``); calling it again replaces our handler
rather than adding a second one. Imports nothing from evwire but the settings type.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import IO, Any

# attributes every LogRecord has; anything else on a record came in through ``extra``
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
_MARK = "_evwire_handler"
FORMATS = ("text", "json")


def record_extras(record: logging.LogRecord) -> dict[str, Any]:
    """The ``extra`` fields of a record (feed_id, article_id, outbox_id, duration_ms, ...)."""
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")}


def _plain(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts (UTC, ISO 8601), level, logger, msg, the extras, exc (traceback)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record_extras(record).items():
            entry.setdefault(key, _plain(value))
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``2026-01-08 12:00:00,123 INFO evwire.poller: message feed_id=3 duration_ms=12``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = record_extras(record)
        if not extras:
            return line
        head, sep, tail = line.partition("\n")  # keep ids on the message line, before a traceback
        ids = " ".join(f"{k}={_plain(v)}" for k, v in extras.items())
        return f"{head} {ids}{sep}{tail}"


def configure_logging(
    settings: Any, *, stream: IO[str] | None = None, quiet_default: str | None = None
) -> logging.Handler:
    """Install one handler on the root logger with the format and level from ``settings``
    (``log_format``, ``log_level``). ``quiet_default``: the level to use when EVWIRE_LOG_LEVEL was
    not set (one-shot CLI commands log warnings only). Returns the handler."""
    fmt = str(getattr(settings, "log_format", "text")).lower()
    if fmt not in FORMATS:
        raise ValueError(f"EVWIRE_LOG_FORMAT must be one of {', '.join(FORMATS)}, not {fmt!r}")
    level_name = str(getattr(settings, "log_level", "INFO")).upper()
    if quiet_default and "log_level" not in getattr(settings, "model_fields_set", ()):
        level_name = quiet_default
    level = logging.getLevelName(level_name)
    if not isinstance(level, int):
        raise ValueError(f"EVWIRE_LOG_LEVEL {level_name!r} is not a level (DEBUG, INFO, WARNING, ERROR)")
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    setattr(handler, _MARK, True)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("evwire").setLevel(level)
    return handler
