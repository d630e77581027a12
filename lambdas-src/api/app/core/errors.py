"""Exception handlers: every error body is {"detail": "<one line saying what is wrong>"}.

Validation errors become one readable line ("text: must not be empty or only whitespace");
an unexpected exception is logged with its traceback and answered with a bare 500, so no stack
trace, SQL or file path ever reaches a client.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from app.repository import DatabaseBusy, DatabaseUnavailable

log = logging.getLogger("app.errors")

_FRIENDLY: dict[str, str] = {
    "missing": "field required",
    "extra_forbidden": "unknown field",
    "string_type": "must be a string",
    "list_type": "must be a list",
    "int_parsing": "must be an integer",
    "int_type": "must be an integer",
    "model_attributes_type": "must be a JSON object",
    "model_type": "must be a JSON object",
    "dict_type": "must be a JSON object",
}


MAX_REPORTED_ERRORS = 5
MAX_NAME_CHARS = 40


def describe_errors(errors: Sequence[Any]) -> str:
    """One line; at most MAX_REPORTED_ERRORS errors and names cut short (never the whole input)."""
    parts = []
    for error in errors[:MAX_REPORTED_ERRORS]:
        loc = [_short(str(p)) for p in error.get("loc", ())]
        where = loc[0] if loc else ""
        field = ".".join(loc[1:])
        if where == "body":
            name = field or "request body"
        elif where in ("query", "path", "header"):
            name = f"{where} parameter {field}"
        else:
            name = ".".join(loc) or "request"
        kind = error.get("type", "")
        if kind == "json_invalid":
            return "request body is not valid JSON"
        message = _FRIENDLY.get(kind) or str(error.get("msg", "invalid value"))
        message = message.removeprefix("Value error, ")
        parts.append(f"{name}: {message}")
    if len(errors) > MAX_REPORTED_ERRORS:
        parts.append(f"and {len(errors) - MAX_REPORTED_ERRORS} more errors")
    return "; ".join(parts) or "invalid request"


def _short(name: str) -> str:
    if len(name) <= MAX_NAME_CHARS:
        return name
    return f"{name[:MAX_NAME_CHARS]}... ({len(name)} characters)"


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    status = 400 if any(e.get("type") == "json_invalid" for e in errors) else 422
    return JSONResponse({"detail": describe_errors(errors)}, status_code=status)


async def database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning("database unavailable during %s %s: %s", request.method, request.url.path, exc)
    return JSONResponse(
        {"detail": "database unavailable, try again later"},
        status_code=503,
        headers={"Retry-After": "5"},
    )


async def database_busy(request: Request, exc: Exception) -> JSONResponse:
    log.warning("database busy during %s %s: %s", request.method, request.url.path, exc)
    return JSONResponse(
        {"detail": "database busy, try again later"},
        status_code=503,
        headers={"Retry-After": "2"},
    )


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("unexpected error in %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"detail": "internal server error"}, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(DatabaseBusy, database_busy)
    app.add_exception_handler(DatabaseUnavailable, database_unavailable)
    app.add_exception_handler(Exception, unexpected_error)
