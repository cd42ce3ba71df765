"""How the Studio server was started: where, with which token, what specs may ask for."""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass, field

TOKEN_ENV = "PARLEY_STUDIO_TOKEN"
_LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` serves this machine only."""
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class SettingsError(ValueError):
    """A start the Studio refuses (a non-loopback bind without a token, a bad option)."""


@dataclass
class StudioSettings:
    host: str = "127.0.0.1"
    port: int = 8081
    store: str | None = None
    """The run store's URL or SQLite path (default: $PARLEY_STORE_URL or .parley/runs.db)."""
    token: str = ""
    """The access token every API call and WebSocket needs; empty: a random one per launch."""
    allow_unsandboxed: bool = False
    """Let specs that ask for it (``use_docker: false``, ``executor: local``) run code unsandboxed."""
    allow_modules: tuple[str, ...] = ()
    """Modules tools and functions of specs may be imported from (plus parley.spec.tools and $PARLEY_SPEC_ALLOW_MODULES)."""
    allow_docs: tuple[str, ...] = ()
    """Folders (or exact URLs) a spec's RetrieveUserProxyAgent may read documents from; none by default."""
    allow_origins: tuple[str, ...] = ()
    """Browser origins allowed besides the server's own (a reverse proxy's, say)."""
    token_given: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self.token = self.token or os.environ.get(TOKEN_ENV, "")
        self.token_given = bool(self.token)
        if not is_loopback(self.host) and not self.token_given:
            raise SettingsError(f"refusing to serve on {self.host} (not a loopback address) without a token: "
                                f"give one with --token or ${TOKEN_ENV} (every browser reaching that address could "
                                "otherwise drive the Studio)")
        if self.token_given and len(self.token) < 16:
            raise SettingsError("--token must be at least 16 characters (it is the only thing between the network and "
                                "running agents)")
        if not self.token:
            self.token = secrets.token_urlsafe(24)
        if not 0 <= self.port <= 65535:
            raise SettingsError(f"--port must be 0..65535, got {self.port}")

    def origins(self) -> set[str]:
        """The browser origins that may call the API and open WebSockets."""
        hosts = {self.host, "127.0.0.1", "localhost", "[::1]"} if is_loopback(self.host) else {self.host}
        hosts = {f"[{h}]" if ":" in h and not h.startswith("[") else h for h in hosts}
        found = {f"{scheme}://{host}:{self.port}" for host in hosts for scheme in ("http", "https")}
        return found | set(self.allow_origins)

    def url(self) -> str:
        """The URL to open, with the token in it."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        if host in ("0.0.0.0", "[::]"):
            host = "127.0.0.1"
        return f"http://{host}:{self.port}/?token={self.token}"
