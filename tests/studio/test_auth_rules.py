"""The Studio's authentication, rule by rule and in this process (``parley.studio.auth`` and
``parley.studio.users``): which headers carry a credential, the Origin check, the token against
login sessions once accounts exist, and the FastAPI dependencies on real Starlette request
objects. A SQLite file holds the accounts; no server, no thread (the end-to-end checks through
a real ``parley studio`` are test_api_security.py's and test_api_users.py's)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from fastapi import HTTPException
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.websockets import WebSocket

from parley.store import schema
from parley.studio import auth, users
from parley.studio.auth import Principal, authenticate, origin_allowed
from parley.studio.settings import StudioSettings

TOKEN = "the-access-token-0123456789"


@pytest.fixture(autouse=True)
def _no_token_in_env(monkeypatch):
    monkeypatch.delenv("PARLEY_STUDIO_TOKEN", raising=False)


@pytest.fixture
def engine(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'users.db'}")
    schema.metadata.create_all(engine, tables=[schema.studio_users, schema.studio_sessions])
    yield engine
    engine.dispose()


@pytest.fixture
def studio(engine):
    """What authenticate reads of the Studio: its settings and its store's engine."""
    return SimpleNamespace(settings=StudioSettings(port=9000, token=TOKEN), store=SimpleNamespace(engine=engine))


def headers(**values: str) -> Headers:
    return Headers({name.replace("_", "-"): value for name, value in values.items()})


def bearer(credential: str) -> str:
    return f"Bearer {credential}"


def offered(credential: str, *others: str) -> str:
    """A browser's Sec-WebSocket-Protocol: the fixed protocol and the credential, base64url, unpadded."""
    encoded = base64.urlsafe_b64encode(credential.encode()).decode().rstrip("=")
    return ", ".join(["parley-studio", *others, "parley-auth." + encoded])


def refused(call, *args, **kwargs) -> tuple[int, str]:
    with pytest.raises(HTTPException) as caught:
        call(*args, **kwargs)
    return caught.value.status_code, caught.value.detail


NO_TOKEN = (401, "the Studio's access token is needed: open the URL parley studio printed, or send Authorization: Bearer TOKEN")
LOG_IN = (401, "log in: this Studio has accounts (POST /api/login)")
WRONG = (401, "the Studio's access token is needed: open the URL parley studio printed")


def test_the_bearer_header():
    assert auth._bearer(headers(authorization="Bearer abc")) == "abc"
    assert auth._bearer(headers(authorization="bEaReR abc")) == "abc"  # the scheme in any case
    assert auth._bearer(headers(authorization="Bearer   abc  ")) == "abc"
    assert auth._bearer(headers(authorization="Bearer a b")) == "a b"
    for value in ("Basic abc", "Bearer", "Bearer ", "Bearer    ", "abc", "Bearerabc", "Token abc", ""):
        assert auth._bearer(headers(authorization=value)) is None, value
    assert auth._bearer(headers()) is None


def test_the_websocket_subprotocol_credential():
    for credential in ("a", "ab", "abc", "abcd", TOKEN, "sessión-ü"):  # every padding length, UTF-8
        assert auth._subprotocol_credential(headers(sec_websocket_protocol=offered(credential))) == credential
    assert auth._subprotocol_credential(headers(sec_websocket_protocol="parley-auth." + base64.urlsafe_b64encode(
        b"padded").decode())) == "padded"  # padding given is fine too
    assert auth._subprotocol_credential(headers(sec_websocket_protocol="  parley-auth.YWJj  ,parley-studio")) == "abc"
    assert auth._subprotocol_credential(headers(sec_websocket_protocol="parley-studio,parley-auth.YWJj")) == "abc"
    for value in ("parley-studio", "", "parley-auth.", "parley-auth.%%%", "parley-auth.//8", "parley-studio, auth.YWJj",
                  "x-parley-auth.YWJj", "parley-auth.YWJj\u00e9"):
        assert auth._subprotocol_credential(headers(sec_websocket_protocol=value)) is None, value
    assert auth._subprotocol_credential(headers()) is None
    # The first credential offered is the one: a bad one is not passed over for a later one.
    assert auth._subprotocol_credential(headers(sec_websocket_protocol="parley-auth.%%, parley-auth.YWJj")) is None
    assert auth._subprotocol_credential(headers(sec_websocket_protocol="parley-auth.YWJj, parley-auth.eHl6")) == "abc"


def test_the_origin_check():
    local = StudioSettings(port=9000, token=TOKEN)
    assert origin_allowed(local, None, None)
    assert origin_allowed(local, "http://127.0.0.1:9000", None)
    assert not origin_allowed(local, "http://evil.example:9000", "evil.example:9000")  # loopback: no Host fallback
    public = StudioSettings(host="192.0.2.7", port=9000, token=TOKEN)
    assert origin_allowed(public, "http://192.0.2.7:9000", None)
    assert origin_allowed(public, "https://studio.lan:9000", "studio.lan:9000")
    assert not origin_allowed(public, "https://studio.lan:9000", None)
    assert not origin_allowed(public, "https://studio.lan:9000", "")
    assert not origin_allowed(public, "https://studio.lan:9001", "studio.lan:9000")
    assert not origin_allowed(public, "null", "studio.lan:9000")


def test_without_accounts_the_token_is_the_only_credential(studio):
    assert authenticate(studio, headers(authorization=bearer(TOKEN))) == Principal(None, False)
    assert authenticate(studio, headers(authorization=bearer(TOKEN)), need_user=False) == Principal(None, False)
    for value in (None, bearer(TOKEN + "x"), bearer(TOKEN[:-1]), bearer(TOKEN.upper()), TOKEN, f"Basic {TOKEN}"):
        assert refused(authenticate, studio, headers(authorization=value) if value else headers()) == NO_TOKEN, value
        assert refused(authenticate, studio, headers(authorization=value) if value else headers(), need_user=False) == NO_TOKEN


def test_the_subprotocol_credential_counts_on_a_websocket_only(studio):
    protocols = offered(TOKEN)
    assert authenticate(studio, headers(sec_websocket_protocol=protocols), websocket=True) == Principal(None, False)
    assert refused(authenticate, studio, headers(sec_websocket_protocol=protocols)) == NO_TOKEN
    assert refused(authenticate, studio, headers(sec_websocket_protocol=offered("wrong-0123456789")), websocket=True) == NO_TOKEN
    # A Bearer header, when there is one, is the credential.
    assert refused(authenticate, studio, headers(authorization=bearer("wrong-0123456789"), sec_websocket_protocol=protocols),
                   websocket=True) == NO_TOKEN
    assert authenticate(studio, headers(authorization=bearer(TOKEN), sec_websocket_protocol=offered("x")),
                        websocket=True) == Principal(None, False)


def test_another_origin_is_refused_before_the_credential(studio):
    evil = headers(authorization=bearer(TOKEN), origin="http://evil.example")
    assert refused(authenticate, studio, evil) == (403, "this origin may not use the Studio")
    assert refused(authenticate, studio, headers(origin="http://evil.example")) == (403, "this origin may not use the Studio")
    assert authenticate(studio, headers(authorization=bearer(TOKEN), origin="http://localhost:9000")) == Principal(None, False)
    public = SimpleNamespace(settings=StudioSettings(host="192.0.2.7", port=9000, token=TOKEN), store=studio.store)
    assert authenticate(public, headers(authorization=bearer(TOKEN), origin="http://box.lan:9000", host="box.lan:9000")) \
        == Principal(None, False)
    assert refused(authenticate, public, headers(authorization=bearer(TOKEN), origin="http://box.lan:9000",
                                                 host="other.lan:9000"))[0] == 403


def test_with_accounts_every_call_needs_a_login_session(studio, engine):
    users.add_user(engine, "alice", "alice-password")
    users.add_user(engine, "bob", "bob-password")
    alice = users.login(engine, "alice", "alice-password", TOKEN)
    bob = users.login(engine, "bob", "bob-password", TOKEN)
    assert alice and bob and alice != bob
    assert authenticate(studio, headers(authorization=bearer(alice))) == Principal("alice", True)
    assert authenticate(studio, headers(authorization=bearer(bob)), need_user=False) == Principal("bob", True)
    assert authenticate(studio, headers(sec_websocket_protocol=offered(alice)), websocket=True) == Principal("alice", True)
    # The token alone: enough for login and health (need_user=False), not for the rest.
    assert refused(authenticate, studio, headers(authorization=bearer(TOKEN))) == LOG_IN
    assert authenticate(studio, headers(authorization=bearer(TOKEN)), need_user=False) == Principal(None, True)
    for credential in ("not-a-session", alice + "x", alice[:-1], TOKEN + "x"):
        assert refused(authenticate, studio, headers(authorization=bearer(credential))) == WRONG, credential
        assert refused(authenticate, studio, headers(authorization=bearer(credential)), need_user=False) == WRONG
    assert refused(authenticate, studio, headers()) == WRONG
    assert refused(authenticate, studio, headers(sec_websocket_protocol=offered(alice))) == WRONG  # not a WebSocket


def test_a_session_ends_with_its_time_its_token_or_a_logout(studio, engine):
    users.add_user(engine, "alice", "alice-password")
    session = users.login(engine, "alice", "alice-password", TOKEN)
    other = users.login(engine, "alice", "alice-password", TOKEN)
    assert session is not None and other is not None
    renewed = SimpleNamespace(settings=StudioSettings(port=9000, token="a-new-access-token-0123"), store=studio.store)
    assert refused(authenticate, renewed, headers(authorization=bearer(session))) == WRONG
    users.logout(engine, session, TOKEN)
    assert refused(authenticate, studio, headers(authorization=bearer(session))) == WRONG
    assert authenticate(studio, headers(authorization=bearer(other))) == Principal("alice", True)  # the other one lives
    with engine.begin() as connection:
        connection.execute(schema.studio_sessions.update().values(expires_at=time.time() - 1))
    assert refused(authenticate, studio, headers(authorization=bearer(other))) == WRONG


def http_request(studio, **values: str) -> Request:
    app = SimpleNamespace(state=SimpleNamespace(studio=studio))
    raw = [(name.replace("_", "-").encode(), value.encode()) for name, value in values.items()]
    return Request({"type": "http", "method": "GET", "path": "/api/x", "headers": raw, "app": app, "query_string": b""})


def websocket(studio, **values: str) -> WebSocket:
    app = SimpleNamespace(state=SimpleNamespace(studio=studio))
    raw = [(name.replace("_", "-").encode(), value.encode()) for name, value in values.items()]

    async def never() -> dict:
        raise AssertionError("nothing is received")

    return WebSocket({"type": "websocket", "path": "/api/runs/x/events", "headers": raw, "app": app, "query_string": b""},
                     receive=never, send=never)


def test_the_route_dependencies(studio, engine):
    assert auth._studio(http_request(studio)) is studio
    assert auth.principal(http_request(studio, authorization=bearer(TOKEN))) == Principal(None, False)
    assert auth.token_holder(http_request(studio, authorization=bearer(TOKEN))) == Principal(None, False)
    assert refused(auth.principal, http_request(studio, sec_websocket_protocol=offered(TOKEN))) == NO_TOKEN
    assert auth.websocket_principal(websocket(studio, sec_websocket_protocol=offered(TOKEN))) == Principal(None, False)
    assert refused(auth.websocket_principal, websocket(studio, sec_websocket_protocol=offered(TOKEN),
                                                       origin="http://evil.example"))[0] == 403
    users.add_user(engine, "alice", "alice-password")
    assert refused(auth.principal, http_request(studio, authorization=bearer(TOKEN))) == LOG_IN
    assert auth.token_holder(http_request(studio, authorization=bearer(TOKEN))) == Principal(None, True)
    session = users.login(engine, "alice", "alice-password", TOKEN)
    assert session is not None
    assert auth.websocket_principal(websocket(studio, sec_websocket_protocol=offered(session))) == Principal("alice", True)
    assert refused(auth.websocket_principal, websocket(studio, sec_websocket_protocol=offered(TOKEN))) == LOG_IN


def test_the_websocket_protocol_selected():
    assert auth.websocket_subprotocol(websocket(None, sec_websocket_protocol=offered(TOKEN))) == "parley-studio"
    both = websocket(None, sec_websocket_protocol="parley-auth.YWJj,  parley-studio ")
    assert auth.websocket_subprotocol(both) == "parley-studio"
    for value in ("parley-auth.YWJj", "parley-studio-2", "x,parley-studiox", ""):
        assert auth.websocket_subprotocol(websocket(None, sec_websocket_protocol=value)) is None, value
    assert auth.websocket_subprotocol(websocket(None)) is None


# users.py


def test_password_hashes_take_their_parameters_from_the_stored_text():
    stored = users.hash_password("correct horse")
    kind, n, r, p, salt, digest = stored.split("$")
    assert (kind, n, r, p, len(bytes.fromhex(salt)), len(bytes.fromhex(digest))) == ("scrypt", "16384", "8", "1", 16, 32)
    assert digest == hashlib.scrypt(b"correct horse", salt=bytes.fromhex(salt), n=2**14, r=8, p=1, maxmem=64 * 2**20,
                                    dklen=32).hex()
    cheap = hashlib.scrypt(b"pw", salt=b"salt", n=16, r=2, p=3, dklen=20).hex()
    assert users.verify_password("pw", f"scrypt$16$2$3${b'salt'.hex()}${cheap}")
    assert not users.verify_password("pw", f"scrypt$16$2$2${b'salt'.hex()}${cheap}")
    assert not users.verify_password("pw", f"Scrypt$16$2$3${b'salt'.hex()}${cheap}")
    assert not users.verify_password("pw", f"scrypt$16$2$3${b'salt'.hex()}${cheap}$")
    assert not users.verify_password("pw", f"scrypt$16$2$3$zz${cheap}")
    assert not users.verify_password("pw", f"scrypt$sixteen$2$3${b'salt'.hex()}${cheap}")
    assert not users.verify_password("pw", f"scrypt$15$2$3${b'salt'.hex()}${cheap}")  # scrypt refuses n not a power of 2
    # A stronger hash than today's (n=2**15: 32 MiB, past OpenSSL's default memory limit) still verifies.
    strong = hashlib.scrypt(b"pw", salt=b"salt", n=2**15, r=8, p=1, maxmem=64 * 2**20, dklen=32).hex()
    assert users.verify_password("pw", f"scrypt$32768$8$1${b'salt'.hex()}${strong}")
    # One past 64 MiB (n=2**16, r=8: 64 MiB and a few KiB) is refused, not computed, even when right:
    # a stored hash can't make each login allocate any amount of memory.
    huge = hashlib.scrypt(b"pw", salt=b"salt", n=2**16, r=8, p=1, maxmem=128 * 2**20, dklen=32).hex()
    assert not users.verify_password("pw", f"scrypt$65536$8$1${b'salt'.hex()}${huge}")


def test_user_names():
    for name in ("a", "Alice", "0", "a.b@c-d_e", "a" * 64):
        assert users.check_name(name) == name
    for name in ("", ".a", "_a", "-a", "@a", "a b", "a" * 65, "ä", "a\n", "a/b", None, 3):
        with pytest.raises(users.UserError, match=r"^user name must be 1-64 letters, digits or _\.@- \(starting with a "
                                                  r"letter or digit\), got "):
            users.check_name(name)  # type: ignore[arg-type]


def test_adding_users(engine):
    assert not users.accounts_exist(engine)
    users.add_user(engine, "alice", "12345678")  # 8 characters: enough
    assert users.accounts_exist(engine)
    with pytest.raises(users.UserError, match=r"^user 'alice' exists already$"):
        users.add_user(engine, "alice", "another-password")
    with pytest.raises(users.UserError, match=r"^password must be at least 8 characters$"):
        users.add_user(engine, "bob", "1234567")
    with pytest.raises(users.UserError, match=r"^password must be at least 8 characters$"):
        users.add_user(engine, "bob", None)  # type: ignore[arg-type]
    with pytest.raises(users.UserError, match="user name must be"):
        users.add_user(engine, "b b", "12345678")
    with engine.connect() as connection:
        rows = connection.execute(sa.select(schema.studio_users)).mappings().all()
    assert [row["name"] for row in rows] == ["alice"]
    assert users.verify_password("12345678", rows[0]["password_hash"])
    assert abs(rows[0]["created_at"] - time.time()) < 3600  # a time stamp, not a counter


def test_a_login_stores_only_the_session_s_hmac_for_thirty_days(engine):
    users.add_user(engine, "alice", "alice-password")
    assert users.login(engine, "alice", "wrong-password", TOKEN) is None
    assert users.login(engine, "nobody", "alice-password", TOKEN) is None
    assert users.login(engine, "Alice", "alice-password", TOKEN) is None
    session = users.login(engine, "alice", "alice-password", TOKEN)
    assert session is not None and len(session) == 43  # 32 random bytes, base64url
    with engine.connect() as connection:
        (row,) = connection.execute(sa.select(schema.studio_sessions)).mappings().all()
    assert row["user"] == "alice"
    assert row["token_hash"] == hmac.new(TOKEN.encode(), session.encode(), hashlib.sha256).hexdigest()
    assert row["expires_at"] - row["created_at"] == pytest.approx(users.SESSION_TTL_S, abs=1e-3)
    assert users.SESSION_TTL_S == 30 * 24 * 3600
    assert abs(row["created_at"] - time.time()) < 3600
    assert users.session_user(engine, session, TOKEN) == "alice"
    assert users.session_user(engine, session, "another-token-0123456") is None


def test_login_failures_count_within_the_window(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(users.time, "monotonic", lambda: now[0])
    key = ("alice", "10.0.0.1")
    failures = users.LoginFailures(limit=3, window_s=60.0)
    for _ in range(2):
        failures.failed(key)
    assert not failures.blocked(key)
    failures.failed(key)
    assert failures.blocked(key)
    now[0] += 59.9
    assert failures.blocked(key)
    now[0] += 0.1  # exactly the window since the failures: they no longer count
    assert not failures.blocked(key) and len(failures) == 0  # and are forgotten
    failures.failed(key)
    now[0] += 30
    failures.failed(key)
    failures.failed(key)
    assert failures.blocked(key)
    now[0] += 30  # the first of the three left the window
    assert not failures.blocked(key) and len(failures) == 1
    for _ in range(10):
        failures.failed(key)
    assert failures._times[key] == [now[0]] * 3  # only the last ``limit`` kept


def test_the_failure_table_drops_stale_pairs_first_then_the_oldest(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(users.time, "monotonic", lambda: now[0])
    failures = users.LoginFailures(limit=2, window_s=60.0, max_keys=3)
    failures.failed(("old", "a"))
    now[0] += 30
    failures.failed(("b", "a"))
    failures.failed(("c", "a"))
    failures.failed(("b", "a"))  # b failed last: c is now the oldest
    now[0] += 30  # old's failure is exactly window_s old: stale
    failures.failed(("d", "a"))
    assert list(failures._times) == [("c", "a"), ("b", "a"), ("d", "a")]
    failures.failed(("e", "a"))  # nothing stale: the oldest (c) goes
    assert list(failures._times) == [("b", "a"), ("d", "a"), ("e", "a")]
    assert failures.blocked(("b", "a"))
    failures.failed(("d", "a"))  # a key already in the table takes no other's place
    assert list(failures._times) == [("b", "a"), ("e", "a"), ("d", "a")]
    failures.clear(("b", "a"))
    failures.clear(("never", "a"))
    assert list(failures._times) == [("e", "a"), ("d", "a")] and len(failures) == 2


def test_every_stale_pair_goes_when_the_table_is_full(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(users.time, "monotonic", lambda: now[0])
    failures = users.LoginFailures(limit=2, window_s=60.0, max_keys=3)
    failures.failed(("old1", "a"))
    failures.failed(("old2", "a"))
    now[0] += 30
    failures.failed(("b", "a"))
    now[0] += 30  # both old pairs are exactly window_s old: stale, and both go (not only as many as needed)
    failures.failed(("c", "a"))
    assert list(failures._times) == [("b", "a"), ("c", "a")]


def test_defaults_of_the_failure_table():
    failures = users.LoginFailures()
    assert (failures.limit, failures.window_s, failures.max_keys) == (5, 300.0, 10_000)
