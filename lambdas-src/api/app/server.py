"""The HTTP server: uvicorn with httptools, and the limits uvicorn has no setting for.

Why our code, still: uvicorn offers no header count, no head size answered 431 (its h11
`h11_max_incomplete_event_size` answers 400, on the pure-Python parser), no header or body read
timeout (`timeout_keep_alive` covers idle connections only); hypercorn's `read_timeout` is per
read (a trickle passes); granian (2.8) has a header read timeout and buffer size but no
header-count or body-timeout setting. So, on uvicorn's httptools protocol, per request:
- the request line and headers together at most MAX_HEADER_BYTES, and at most
  MAX_HEADER_COUNT headers: otherwise 431, then the connection is closed (bytes are counted as
  they arrive, so a 50 MB header is refused after the first MAX_HEADER_BYTES plus one read);
- the headers complete within HEADER_TIMEOUT_S of the connection's first byte (of the request's
  first byte on a kept-alive connection), and the body within BODY_TIMEOUT_S of the headers:
  otherwise 408, then close (slow-loris senders hold no connection longer than that).
Everything else is uvicorn's own: `data_received` is uvicorn's, so a malformed request (bad
method, target, version, header, chunk, Content-Length) gets uvicorn's 400, logged in one line.
uvicorn closes idle kept-alive connections after KEEP_ALIVE_TIMEOUT_S.

`serve(settings, app)` runs it: one process, or WEB_CONCURRENCY processes sharing the port
(uvicorn's supervisor; each worker builds the app with `app.main:create_app`).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, NoReturn

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.core.config import Settings

LINGER_S = 2.0
REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


class HttpLimits:
    def __init__(self, settings: Settings) -> None:
        self.max_header_bytes = settings.max_header_bytes
        self.max_header_count = settings.max_header_count
        self.header_timeout_s = settings.header_timeout_s
        self.body_timeout_s = settings.body_timeout_s


_limits: HttpLimits | None = None


def configure_limits(settings: Settings) -> None:
    global _limits
    _limits = HttpLimits(settings)


def current_limits() -> HttpLimits:
    global _limits
    if _limits is None:  # a worker process started by uvicorn's supervisor: same environment
        _limits = HttpLimits(Settings())
    return _limits


class _Refused(Exception):
    """Raised in a parser callback after the refusal was answered: stops the parser."""


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limits = current_limits()
        self._in_head = True  # between requests or inside a request's head
        self._head_bytes = 0  # bytes received since the head started (bounded by the limit)
        self._header_count = 0
        self._counted = 0
        self._timer: asyncio.TimerHandle | None = None
        self._refused = False

    # -- timers
    def _arm(self, seconds: float, status: int, detail: str) -> None:
        self._disarm()
        self._timer = self.loop.call_later(seconds, self._refuse, status, detail)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def _arm_head_timer(self) -> None:
        seconds = self._limits.header_timeout_s
        self._arm(seconds, 408, f"request headers not received within {seconds:g} s")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    # -- bytes
    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)  # uvicorn's: a parser error is its 400
        if (
            not self._refused
            and self._in_head
            and self._head_bytes > self._limits.max_header_bytes + len(data)
        ):
            # still no end of headers although the limit (and this read) went past
            self._refuse(431, self._too_large())

    def send_400_response(self, msg: str) -> None:
        if self._refused:  # our callback stopped the parser after answering 431 itself
            return
        super().send_400_response(msg)

    def _too_large(self) -> str:
        return f"request headers are larger than the limit of {self._limits.max_header_bytes} bytes"

    # -- parser callbacks (exceptions raised here come out of feed_data)
    def on_message_begin(self) -> None:
        self._in_head = True
        if self._timer is None:  # the next request on a kept-alive connection
            self._arm_head_timer()
        self._header_count = 0
        self._counted = 0
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        self._counted += len(url)
        if self._counted > self._limits.max_header_bytes:
            self._stop(431, self._too_large())
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        self._counted += len(name) + len(value) + 4
        if self._header_count > self._limits.max_header_count:
            self._stop(431, f"more than {self._limits.max_header_count} request headers")
        if self._counted > self._limits.max_header_bytes:
            self._stop(431, self._too_large())
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = 0
        seconds = self._limits.body_timeout_s
        self._arm(seconds, 408, f"request body not received within {seconds:g} s")
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        self._in_head = True  # what comes next is the head of the next request
        self._head_bytes = 0
        super().on_message_complete()

    # -- refusal
    def _stop(self, status: int, detail: str) -> NoReturn:
        """Answer `status` and close, then stop the parser (raising in a callback stops it)."""
        self._refuse(status, detail)
        raise _Refused(detail)

    def _refuse(self, status: int, detail: str) -> None:
        """Answer `status` (unless a response already started) and close the connection."""
        self._disarm()
        self._refused = True
        if self.transport.is_closing():
            return
        cycle = self.cycle
        started = cycle is not None and not cycle.response_complete and cycle.response_started
        if not started:
            body = json.dumps({"detail": detail}).encode()
            head = (
                b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\n"
                b"content-length: %d\r\nconnection: close\r\n\r\n"
                % (status, REASONS[status], len(body))
            )
            self.transport.write(head + body)
        if cycle is not None and not cycle.response_complete:
            cycle.disconnected = True  # the application sees a disconnect, its answer is dropped
            cycle.message_event.set()
        # Lingering close (as nginx does): send our FIN, then read and drop what the client is
        # still sending for a short while before closing. Closing at once with unread bytes
        # would send a reset, and the client would lose the answer.
        if self.transport.can_write_eof():
            self.transport.write_eof()
            self.loop.call_later(LINGER_S, self.transport.close)
        else:
            self.transport.close()


def serve(settings: Settings, app: Any | None = None) -> None:
    """Run the API on HOST:PORT with the limits above (blocking)."""
    import uvicorn

    configure_limits(settings)
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "server_header": False,
        "http": LimitedHttpToolsProtocol,
        "timeout_keep_alive": settings.keep_alive_timeout_s,
        "timeout_graceful_shutdown": 10,
    }
    if settings.web_concurrency > 1 or app is None:
        # several processes: each builds its own app (and loads the model) from the environment
        options["http"] = f"{__name__}:LimitedHttpToolsProtocol"
        uvicorn.run(
            "app.main:create_app", factory=True, workers=settings.web_concurrency, **options
        )
    else:
        uvicorn.run(app, **options)
