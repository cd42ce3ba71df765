"""parley Studio: the browser UI's server (``parley studio``): team specs, runs in the run store
driven live over a WebSocket, human input answered from the browser, resumed after a restart.

One module per concept: ``settings`` (how it was started), ``users`` (accounts, password KDF,
login sessions), ``auth`` (the token, the principal, the Origin check), ``policy`` (what a spec
from the browser may ask for), ``teams`` (saved teams, the gallery, validation), ``model_configs``
(the server's models, keys never shown), ``event_feed`` (a run's events as JSON: replayed from
the store, then live), ``runner`` (runs as asyncio tasks of the server, durable in the store),
``runs`` (the runs API), ``ui`` (the built UI and the token-cookie handshake), ``app`` (the
FastAPI application), ``cli`` (``parley studio``). FastAPI and uvicorn come with
``pip install 'parley[studio]'``.
"""

from .settings import StudioSettings

__all__ = ["StudioSettings", "create_app"]


def create_app(settings: StudioSettings):  # type: ignore[no-untyped-def]
    """The Studio's FastAPI application (imports FastAPI on first use)."""
    from .app import create_app as create

    return create(settings)
