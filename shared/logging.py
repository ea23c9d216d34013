"""structlog set up once per process: console in development, JSON otherwise, data masked."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import structlog

from shared.privacy import mask_event_dict

bind_context = structlog.contextvars.bind_contextvars
clear_context = structlog.contextvars.clear_contextvars
bound_context = structlog.contextvars.bound_contextvars
# The fields a route adds to its request's one `http.request` line (set by RequestContext).
request_fields: ContextVar[dict[str, Any] | None] = ContextVar("request_fields", default=None)


def configure_logging(
    service: str, *, fmt: str = "console", level: str = "INFO", log_dir: Path | None = None
) -> None:
    """Routes structlog and stdlib logs (uvicorn, faststream) through one masked pipeline."""
    # Tracebacks are rendered to plain text (stdlib format: no local variables, which could
    # hold tokens or a request body) *before* masking, so masking covers them too. The fields
    # the process adds itself (level, logger, time, service) come after: nothing to mask there.
    shared_processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        mask_event_dict,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_service(service),
    ]
    renderer: Any
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer()
        # A structlog line is rendered once, here, and handed to the handlers as its text
        # (no second pass through a formatter's processors, no copy of the log record).
        last: list[Any] = [renderer, _rendered]
    else:
        renderer = structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback
        )
        last = [structlog.stdlib.ProcessorFormatter.wrap_for_formatter]
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,  # drop below-level lines before any work
            *shared_processors,
            *last,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    _route_stdlib(service, shared_processors, renderer, level, log_dir)


def _route_stdlib(
    service: str, processors: list[Any], renderer: Any, level: str, log_dir: Path | None
) -> None:
    """The root logger's handlers (stderr, and the rotated file when log_dir is set)."""
    formatter = _Formatter(
        foreign_pre_chain=processors,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    if log_dir is not None:
        root.handlers.append(_file_handler(log_dir, service, processors))
    root.setLevel(level.upper())
    # No line shows its caller: skip the stdlib's stack walk per record (logging HOWTO).
    logging._srcfile = None
    _quiet_noisy_loggers()
    for name in ("uvicorn", "uvicorn.error", "faststream"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


_RENDERED = "menjamu_rendered"


def _rendered(_logger: Any, _method: str, line: str) -> tuple[tuple[str], dict[str, Any]]:
    """structlog's last step in JSON mode: the rendered line, marked for _Formatter."""
    return (line,), {"extra": {_RENDERED: True}}


class _Formatter(structlog.stdlib.ProcessorFormatter):
    """Writes a line structlog already rendered as JSON as it is; formats any other record
    (the stdlib's: uvicorn, faststream, or structlog's in console mode) through the chain."""

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, _RENDERED, False):
            return str(record.msg)
        return super().format(record)


# Loggers that speak at INFO about their own work; their warnings still show. faststream logs
# every message and task callback; for each PDF (certificates, survey reports) WeasyPrint logs
# its layout steps and fontTools, when HarfBuzz cannot subset, a hundred lines per font.
NOISY_LOGGERS = (
    "uvicorn.access",
    "sqlalchemy.engine",
    "aiosqlite",
    "asyncio",
    "faststream",
    "weasyprint.progress",
    "fontTools",
)


def _quiet_noisy_loggers() -> None:
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _file_handler(log_dir: Path, service: str, processors: list[Any]) -> logging.Handler:
    """JSON lines in <log_dir>/<service>.log, rotated at 10 MiB, 5 kept (`menjamu logs`)."""
    log_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        log_dir / f"{service}.log", maxBytes=10 * 1024 * 1024, backupCount=5, encoding="utf-8"
    )
    # Structlog's lines arrive here already rendered in JSON mode; in console mode they are
    # rendered as JSON here.
    handler.setFormatter(
        _Formatter(
            foreign_pre_chain=processors,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    return handler


def _add_service(service: str) -> Any:
    def processor(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
        event_dict.setdefault("service", service)
        return event_dict

    return processor


def note_request(outcome: str, **fields: Any) -> None:
    """Puts what a route did on its request's `http.request` line (one log line per request);
    outside a request (a script, a test calling the route directly) it is a line of its own."""
    target = request_fields.get()
    if target is None:
        get_logger("menjamu.request").info(outcome, **fields)
        return
    target.update(fields, outcome=outcome)


def get_logger(name: str | None = None) -> Any:
    """Returns a structlog logger; bind ids with bind_context or log.bind."""
    return structlog.get_logger(name)
