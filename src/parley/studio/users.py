"""Accounts: ``parley studio adduser NAME``; passwords hashed with scrypt (hashlib's, a memory-hard
KDF: no dependency needed), login sessions as random tokens stored only as their HMAC-SHA256 keyed
by the access token (a new token ends every session).

With no account in the store the Studio has one user, whoever holds the token; once an account
exists, every API call also needs a logged-in user, and teams and runs belong to their user.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time

import sqlalchemy as sa

from ..store import schema

# scrypt cost: 2**14 x 8 x 1 (16 MiB, ~50 ms), the parameters OWASP lists for scrypt.
_N, _R, _P = 2**14, 8, 1
SESSION_TTL_S = 30 * 24 * 3600
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$"
_NAME = re.compile(NAME_PATTERN)


class UserError(ValueError):
    """A bad account name or password, or one that exists already."""


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, maxmem=64 * 1024 * 1024, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        computed = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                                  maxmem=64 * 1024 * 1024, dklen=len(digest) // 2)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(computed.hex(), digest)


def check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise UserError(f"user name must be 1-64 letters, digits or _.@- (starting with a letter or digit), got {name!r}")
    return name


def add_user(engine: sa.Engine, name: str, password: str) -> None:
    check_name(name)
    if not isinstance(password, str) or len(password) < 8:
        raise UserError("password must be at least 8 characters")
    table = schema.studio_users
    with engine.begin() as connection:
        if connection.execute(sa.select(table.c.name).where(table.c.name == name)).first() is not None:
            raise UserError(f"user {name!r} exists already")
        connection.execute(table.insert().values(name=name, password_hash=hash_password(password), created_at=time.time()))


def accounts_exist(engine: sa.Engine) -> bool:
    with engine.connect() as connection:
        return connection.execute(sa.select(schema.studio_users.c.name).limit(1)).first() is not None


FailureKey = tuple[str, str]
"""(user name, client address): one caller's failures don't lock the name for every other caller."""


class LoginFailures:
    """Failed logins per (name, client address) in this process: after ``limit`` within
    ``window_s`` that pair is refused (429) until the window passes, so that passwords can't be
    guessed at scrypt's pace, while the same name from another address still logs in. At most
    ``max_keys`` pairs are kept (the oldest go first), so many names can't fill the memory."""

    def __init__(self, limit: int = 5, window_s: float = 300.0, max_keys: int = 10_000) -> None:
        self.limit = limit
        self.window_s = window_s
        self.max_keys = max_keys
        self._times: dict[FailureKey, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: FailureKey, now: float) -> list[float]:
        recent = [t for t in self._times.get(key, []) if now - t < self.window_s]
        if recent:
            self._times[key] = recent
        else:
            self._times.pop(key, None)
        return recent

    def blocked(self, key: FailureKey) -> bool:
        with self._lock:
            return len(self._recent(key, time.monotonic())) >= self.limit

    def failed(self, key: FailureKey) -> None:
        with self._lock:
            now = time.monotonic()
            recent = self._recent(key, now)
            self._times.pop(key, None)  # re-inserted last: the dict's order is the order of last failure
            if len(self._times) >= self.max_keys:
                for stale in [k for k, times in self._times.items() if now - times[-1] >= self.window_s]:
                    del self._times[stale]
                while len(self._times) >= self.max_keys:
                    del self._times[next(iter(self._times))]
            self._times[key] = [*recent, now][-self.limit:]

    def clear(self, key: FailureKey) -> None:
        with self._lock:
            self._times.pop(key, None)

    def __len__(self) -> int:
        return len(self._times)


def _token_hash(token: str, access_token: str) -> str:
    """What the store keeps of a session: an HMAC of it keyed by the Studio's access token, so that
    a session lives only as long as the token it was created under (a new token ends them all)."""
    return hmac.new(access_token.encode(), token.encode(), hashlib.sha256).hexdigest()


def login(engine: sa.Engine, name: str, password: str, access_token: str) -> str | None:
    """A new session token for ``name`` when the password is right, else None."""
    table = schema.studio_users
    with engine.connect() as connection:
        row = connection.execute(sa.select(table.c.password_hash).where(table.c.name == name)).first()
    if row is None:
        hash_password(password)  # the same work as for a known name: timing does not tell which names exist
        return None
    if not verify_password(password, row[0]):
        return None
    token = secrets.token_urlsafe(32)
    now = time.time()
    with engine.begin() as connection:
        connection.execute(schema.studio_sessions.insert().values(
            token_hash=_token_hash(token, access_token), user=name, created_at=now, expires_at=now + SESSION_TTL_S))
    return token


def session_user(engine: sa.Engine, token: str, access_token: str) -> str | None:
    """The user a session token belongs to, None when it is unknown or expired."""
    table = schema.studio_sessions
    with engine.connect() as connection:
        row = connection.execute(sa.select(table.c.user, table.c.expires_at)
                                 .where(table.c.token_hash == _token_hash(token, access_token))).first()
    if row is None or row[1] < time.time():
        return None
    return str(row[0])


def logout(engine: sa.Engine, token: str, access_token: str) -> None:
    with engine.begin() as connection:
        table = schema.studio_sessions
        connection.execute(table.delete().where(table.c.token_hash == _token_hash(token, access_token)))
