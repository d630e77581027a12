"""BodyGuard: checks every request body before FastAPI sees it; HEAD answered as GET.

- larger than `max_body_bytes` -> 413, whether or not a Content-Length was sent (bytes are
  counted as they arrive; reading stops at the limit);
- a body that is not declared as JSON -> 415;
- not UTF-8 -> 400; not JSON, or nested too deep for Python's parser -> 400.

A pure ASGI middleware: it reads the body once and replays it to the application.

Why ours: neither uvicorn nor Starlette bounds a request body (Starlette only multipart parts),
and FastAPI's routes, unlike Starlette's, do not answer HEAD for GET.
"""

from __future__ import annotations

import json
from email.message import Message
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.types import Message as AsgiMessage

from app.schemas import clip

MAX_JSON_DEPTH = 32


class BodyGuardMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        declared = headers.get("content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                await _reject(send, 400, f"invalid Content-Length header {clip(declared)}")
                return
            if int(declared) > self.max_body_bytes:
                await _reject(send, 413, self._too_large())
                return

        chunks: list[bytes] = []
        size = 0
        more_body = True
        while more_body:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client went away: nothing to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await _reject(send, 413, self._too_large())
                return
            chunks.append(chunk)
            more_body = message.get("more_body", False)
        body = b"".join(chunks)

        if body:
            problem = check_json_body(headers.get("content-type"), body)
            if problem is not None:
                await _reject(send, *problem)
                return

        replayed = False

        async def replay() -> AsgiMessage:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _too_large(self) -> str:
        return f"request body is larger than the limit of {self.max_body_bytes} bytes"


def check_json_body(content_type: str | None, body: bytes) -> tuple[int, str] | None:
    """Return (status, message) if `body` is not UTF-8 JSON declared as such, else None."""
    if not content_type:
        return 415, "Content-Type header missing: send the body as application/json"
    parsed = Message()
    parsed["content-type"] = content_type
    subtype = parsed.get_content_subtype()
    if parsed.get_content_maintype() != "application" or not (
        subtype == "json" or subtype.endswith("+json")
    ):
        return 415, f"unsupported Content-Type {clip(content_type)}: send application/json"
    charset = parsed.get_param("charset")
    if isinstance(charset, str) and charset.lower() not in ("utf-8", "utf8"):
        return 415, f"unsupported charset {clip(charset)}: send UTF-8"
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return 400, f"request body is not valid UTF-8 (bad byte at offset {exc.start})"
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        return (
            400,
            f"request body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
        )
    except RecursionError:
        return 400, "request body is not valid JSON: nested too deep"
    except ValueError as exc:  # e.g. an integer literal longer than Python's 4300 digits
        return 400, f"request body is not valid JSON: {' '.join(str(exc).split())[:200]}"
    if _depth(document) > MAX_JSON_DEPTH:
        return 400, f"request body is nested deeper than {MAX_JSON_DEPTH} levels"
    return None


def _depth(document: Any) -> int:
    depth = 0
    level = [document]
    while level:
        containers = [v for v in level if isinstance(v, (dict, list))]
        if not containers:
            break
        depth += 1
        level = [
            child
            for container in containers
            for child in (container.values() if isinstance(container, dict) else container)
        ]
    return depth


async def _reject(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class HeadMiddleware:
    """HEAD is answered wherever GET is: the GET route runs, its body is dropped (its headers,
    Content-Length included, are kept)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: AsgiMessage) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_without_body)
