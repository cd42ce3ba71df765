"""Image files the tests write (Pillow), and the fake Anthropic server."""

from __future__ import annotations

import pytest

# SECRET_KEY: the key tests look for in errors and stores; the fake Anthropic server's fixtures.
from tests.models.conftest import SECRET_KEY, _anthropic_server, anthropic_server  # noqa: F401

pytest.importorskip("PIL")


def write_image(path, size, colour, format=None):
    from PIL import Image

    Image.new("RGB", size, colour).save(path, format=format)
    return path.read_bytes()


@pytest.fixture
def red_png(tmp_path):
    """A 7x5 red PNG file: (path, its bytes)."""
    path = tmp_path / "red.png"
    return path, write_image(path, (7, 5), (255, 0, 0))


@pytest.fixture
def blue_jpeg(tmp_path):
    path = tmp_path / "blue.jpg"
    return path, write_image(path, (9, 4), (0, 0, 255))


@pytest.fixture
def green_bmp(tmp_path):
    path = tmp_path / "green.bmp"
    return path, write_image(path, (3, 3), (0, 255, 0))
