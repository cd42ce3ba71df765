"""A docs_path URL is fetched from the host it names only, at most max_bytes of it, logged
without its credentials, and saved where no one else's symlink can redirect the write."""

from __future__ import annotations

import http.server
import logging
import os
import threading

import pytest

from parley.retrieval import documents
from parley.retrieval.documents import get_file_from_url, get_files_from_dir

pytest.importorskip("httpx")


@pytest.fixture
def web():
    """A loopback server: /big sends more than the limit, /away redirects to another host
    (localhost instead of 127.0.0.1), /page is a page, /missing is a 404; hits counts the asks."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(f"{self.headers['Host']}{self.path}")
            if self.path.startswith("/big"):
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()  # no Content-Length: the size is only learnt by reading
                for _ in range(64):
                    self.wfile.write(b"x" * 1024)
            elif self.path.startswith("/away"):
                self.send_response(302)
                self.send_header("Location", f"http://localhost:{self.server.server_address[1]}/page")
                self.end_headers()
            elif self.path.startswith("/page"):
                body = b"<html><body><p>fact</p></body></html>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            else:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()


def test_a_huge_answer_is_dropped_at_max_bytes(web, tmp_path, caplog):
    base, _ = web
    assert get_file_from_url(f"{base}/big", str(tmp_path / "big.txt"), max_bytes=16 * 1024) is None
    assert not (tmp_path / "big.txt").exists()
    assert "more than max_bytes=16384" in caplog.text
    assert get_file_from_url(f"{base}/big", str(tmp_path / "big.txt"))[0] == str(tmp_path / "big.txt")


def test_a_redirect_to_another_host_is_not_followed(web, tmp_path, caplog):
    base, hits = web
    assert get_file_from_url(f"{base}/away", str(tmp_path / "a.html")) is None
    assert hits == [f"{base[7:]}/away"]  # localhost was never asked
    assert "redirects to another host" in caplog.text and "other_hosts=True" in caplog.text
    assert get_file_from_url(f"{base}/away", str(tmp_path / "a.html"), other_hosts=True) is not None


def test_failures_are_logged_without_the_urls_credentials(web, caplog):
    base, _ = web
    host = base[len("http://"):]
    caplog.set_level(logging.WARNING)
    assert get_files_from_dir(f"http://alice:hunter2-secret@{host}/missing?token=tok-secret-9") == []
    assert f"could not fetch http://{host}/missing: HTTP 404" in caplog.text
    assert "hunter2-secret" not in caplog.text and "tok-secret-9" not in caplog.text


def test_the_download_folder_is_private_and_a_planted_symlink_is_not_written_through(web, tmp_path, monkeypatch):
    base, _ = web
    monkeypatch.setattr(documents.tempfile, "gettempdir", lambda: str(tmp_path))
    victim = tmp_path / "victim.txt"
    victim.write_text("mine")
    folder = tmp_path / f"parley-retrieval-downloads-{os.getuid()}"
    folder.mkdir(mode=0o700)
    url = f"{base}/page"
    (folder / (documents._file_name_for_url(url) + ".html")).symlink_to(victim)
    with pytest.raises(OSError):
        get_file_from_url(url)
    assert victim.read_text() == "mine"
    os.chmod(folder, 0o777)  # a folder others may write in is refused
    with pytest.raises(ValueError, match="not a private folder of this user"):
        get_file_from_url(url)
