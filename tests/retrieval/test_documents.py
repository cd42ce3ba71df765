"""Reading documents (text, Markdown, HTML, PDF, code, URLs) and splitting them into chunks."""

from __future__ import annotations

import http.server
import threading

import pytest

from parley.retrieval.chunking import split_files_to_chunks, split_text_to_chunks
from parley.retrieval.documents import get_files_from_dir, is_url, read_document
from parley.token_count_utils import count_token


def test_each_kind_of_document_is_read_as_text(docs_folder):
    assert "port 7311" in read_document(str(docs_folder / "notes.txt"))
    assert "Orchid" in read_document(str(docs_folder / "guide.md"))
    html = read_document(str(docs_folder / "team.html"))
    assert "Captain Pixel" in html and "SCRIPT TEXT" not in html and "color: red" not in html and "<p>" not in html
    pdf = read_document(str(docs_folder / "manual.pdf"))
    assert "descaling cycle takes forty minutes" in pdf and "roof hatch" in pdf
    assert "nine attempts" in read_document(str(docs_folder / "tools.py"))


def test_folders_globs_files_and_lists(docs_folder):
    sub = docs_folder / "sub"
    sub.mkdir()
    (sub / "deep.txt").write_text("deep file")
    (docs_folder / "image.png").write_bytes(b"\x89PNG")
    everything = get_files_from_dir(str(docs_folder))
    assert {p.rsplit("/", 1)[-1] for p in everything} == {"notes.txt", "guide.md", "team.html", "manual.pdf", "tools.py",
                                                          "deep.txt"}
    assert [p.rsplit("/", 1)[-1] for p in get_files_from_dir(str(docs_folder), recursive=False)].count("deep.txt") == 0
    assert [p.rsplit("/", 1)[-1] for p in get_files_from_dir(str(docs_folder / "*.md"))] == ["guide.md"]
    assert [p.rsplit("/", 1)[-1] for p in get_files_from_dir(str(docs_folder), types=["pdf"])] == ["manual.pdf"]
    listed = get_files_from_dir([str(docs_folder / "notes.txt"), str(docs_folder / "missing-*.txt"), str(sub)])
    assert [p.rsplit("/", 1)[-1] for p in listed] == ["notes.txt", "deep.txt"]
    with pytest.raises(ValueError, match="not a file, folder, glob pattern or URL"):
        get_files_from_dir(str(docs_folder / "nope"))
    with pytest.raises(ValueError, match="types"):
        get_files_from_dir(str(docs_folder), types=[])


@pytest.fixture
def web_page():
    """A page served on loopback (the only place a test fetches from)."""
    page = (b"<html><head><title>Remote</title></head><body><main><h1>Remote fact</h1>"
            b"<p>The moon base code is KX-11.</p></main></body></html>")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/facts/page"
    server.shutdown()


def test_a_url_is_fetched_and_its_chunks_name_the_url(web_page):
    assert is_url(web_page) and not is_url("docs/page.html")
    files = get_files_from_dir(web_page)
    assert len(files) == 1 and files[0][1] == web_page and files[0][0].endswith(".html")
    chunks, sources = split_files_to_chunks(files, max_tokens=200)
    assert any("moon base code is KX-11" in c for c in chunks)
    assert sources == [{"source": web_page}] * len(chunks)


def test_multi_lines_packs_paragraphs_up_to_the_token_size():
    paragraphs = [f"Paragraph {i} says something about topic {i} in a few words." for i in range(20)]
    text = "\n\n".join(paragraphs)
    chunks = split_text_to_chunks(text, max_tokens=40)
    assert len(chunks) > 1
    assert all(count_token(c) <= 40 for c in chunks)
    # Nothing lost, nothing cut inside a paragraph, order kept.
    assert [p for c in chunks for p in c.split("\n\n")] == paragraphs


def test_one_line_mode_and_breaking_long_pieces():
    text = "first line here\nsecond line here\n\nthird line here"
    assert split_text_to_chunks(text, max_tokens=100, chunk_mode="one_line") == ["first line here", "second line here",
                                                                                  "third line here"]
    long_paragraph = " ".join(f"word{i}" for i in range(400))
    chunks = split_text_to_chunks(long_paragraph, max_tokens=50)
    assert len(chunks) > 1 and all(count_token(c) <= 50 for c in chunks)
    assert " ".join(chunks).split() == long_paragraph.split()
    lines = "\n".join(f"line {i} of the log" for i in range(30))
    by_lines = split_text_to_chunks(lines, max_tokens=30, must_break_at_empty_line=False)
    assert all(count_token(c) <= 30 for c in by_lines) and "\n".join(by_lines).splitlines() == lines.splitlines()


def test_bad_chunk_settings_name_the_field():
    with pytest.raises(ValueError, match="chunk_mode"):
        split_text_to_chunks("some text here", chunk_mode="paragraphs")
    with pytest.raises(ValueError, match="chunk_token_size"):
        split_text_to_chunks("some text here", max_tokens=0)
