"""Jupyter Server configuration of the TP1 sandbox (loaded by `jupyter notebook`).

Installed as /etc/jupyter/jupyter_server_config.py. Nothing secret lives here: the token is read
from the JUPYTER_TOKEN environment variable when the server starts, and the server refuses to
start without one, so it never serves notebooks without authentication.
"""

import os
import re

c = get_config()  # type: ignore[name-defined]  # noqa: F821  # provided by traitlets

_token = os.environ.get("JUPYTER_TOKEN", "")
if not _token.strip():
    raise SystemExit(
        "JUPYTER_TOKEN is empty or not set: set it to a long random secret;"
        " the sandbox never runs Jupyter without authentication"
    )
_port = os.environ.get("JUPYTER_PORT", "8000")
if not _port.isdigit() or not 1 <= int(_port) <= 65535:
    raise SystemExit(f"JUPYTER_PORT must be a port number between 1 and 65535, got {_port!r}")

c.IdentityProvider.token = _token
# The token is the only way in: no password can be set from the login page, none is configured.
c.PasswordIdentityProvider.allow_password_change = False
c.PasswordIdentityProvider.hashed_password = ""

# Reachable through the container's published port, never opening a browser inside it.
c.ServerApp.ip = "0.0.0.0"
c.ServerApp.port = int(_port)
c.ServerApp.port_retries = 0  # fail loudly rather than move to a port nobody published
c.ServerApp.allow_remote_access = True
c.ServerApp.open_browser = False

# Behind the class's reverse proxy each student's Jupyter lives under /<id>/ (JUPYTER_BASE_URL).
_base_url = os.environ.get("JUPYTER_BASE_URL", "/")
if not re.fullmatch(r"/(?:[a-z0-9-]+/)*", _base_url):
    raise SystemExit(
        f"JUPYTER_BASE_URL must be / or /<segments>/ of a-z, 0-9 and -, got {_base_url!r}"
    )
c.ServerApp.base_url = _base_url
# The proxy terminates TLS and says so in X-Forwarded-Proto/Host: origin checks of the
# kernels' websockets compare with what the browser used.
c.ServerApp.trust_xheaders = _base_url != "/"
