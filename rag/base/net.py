"""Network helpers the servers share (the web app, the OpenAI-compatible API)."""

from __future__ import annotations

import ipaddress


def is_loopback(host: str) -> bool:
    """Whether binding to `host` keeps a server on this machine (localhost, 127.x, ::1)."""
    host = (host or "").strip().strip("[]")
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
