"""parley Studio: the browser UI's server (``parley studio``): team specs, runs in the run store
driven live over a WebSocket, human input answered from the browser, resumed after a restart.

One module per concept: ``settings`` (how it was started), ``users`` (accounts, password KDF,
login sessions), ``auth`` (the token, the principal, the Origin check), ``body_limit`` (the
caller and the size limit checked before a body is read), ``policy`` (what a spec from the
browser may ask for), ``teams`` (saved teams, the gallery, validation), ``model_configs``
(the server's models, keys never shown), ``event_feed`` (a run's events as JSON: replayed from
the store, then live), ``runner`` (runs as asyncio tasks of the server, durable in the store),
``runs`` (the runs API), ``ui`` (the built UI and the ``/?token=`` page), ``app`` (the
FastAPI application), ``cli`` (``parley studio``). FastAPI and uvicorn come with
``pip install 'parley[studio]'``.
"""

from typing import Any

__all__ = ["StudioSettings", "create_app"]


def __getattr__(name: str) -> Any:
    # Loaded when used: `parley --help` imports parley.studio.cli, which needs argparse only.
    if name == "StudioSettings":
        from .settings import StudioSettings

        return StudioSettings
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(f"module 'parley.studio' has no attribute {name!r}")
