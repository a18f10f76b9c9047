"""structlog JSON logging shared by every service.

Each line carries `service`, and, when bound, `correlation_id`, `causation_id` and the request
or event id. Keys that would carry personal data are masked as a last line of defence: the
services are written never to log them in the first place.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

import structlog

_SENSITIVE_KEYS = frozenset(
    {
        "name",
        "first_name",
        "last_name",
        "full_name",
        "email",
        "phone",
        "address",
        "password",
        "token",
        "authorization",
        "content",
        "plaintext",
        "free_text",
        "text",
    }
)
REDACTED = "[redacted]"


def _mask_sensitive(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in event_dict.keys() & _SENSITIVE_KEYS:
        event_dict[key] = REDACTED
    return event_dict


def configure_logging(service: str, level: str = "INFO") -> None:
    """JSON lines on stdout, with the service name and the bound context on every line."""
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    shared_processors: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _name_logger,
        _mask_sensitive,
    ]
    structlog.configure(
        processors=[
            *shared_processors,
            structlog.processors.format_exc_info,
            structlog.processors.EventRenamer("message"),
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=False,
    )
    structlog.contextvars.bind_contextvars(service=service)
    # Libraries (uvicorn, aiokafka, asyncpg) log through the standard library: route them
    # through the same JSON renderer so that every line of a service's log parses.
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared_processors,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.EventRenamer("message"),
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(numeric, logging.INFO) if numeric < logging.INFO else numeric)
    for noisy in ("aiokafka", "kafka", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # uvicorn's own logging configuration (applied by any uvicorn.run in the process) gives
    # its loggers a plain-text handler and stops them propagating: undo it, so that they too
    # reach the JSON handler above.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        library = logging.getLogger(name)
        library.handlers.clear()
        library.propagate = True


def get_logger(name: str | None = None) -> Any:
    """A structlog logger; `name` becomes the `logger` key.

    It stays lazy: modules take their logger at import, before `configure_logging` runs, and
    binding it then would freeze structlog's default (console) configuration into it."""
    # `logger` itself cannot be an initial value (it is wrap_logger's first parameter's name):
    # the name travels as `logger_name` and `_name_logger` renames it.
    return structlog.get_logger(logger_name=name) if name else structlog.get_logger()


def _name_logger(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    if "logger_name" in event_dict:
        event_dict["logger"] = event_dict.pop("logger_name")
    return event_dict


@contextmanager
def bound(**values: Any) -> Iterator[None]:
    """Bind context (e.g. correlation_id, causation_id, event_id) for the duration of a block."""
    tokens = structlog.contextvars.bind_contextvars(**values)
    try:
        yield
    finally:
        structlog.contextvars.reset_contextvars(**tokens)


def current_context() -> dict[str, Any]:
    """What is bound now: `correlation_id`, `request_id`, `causation_id`, … (may be empty)."""
    return dict(structlog.contextvars.get_contextvars())
