"""Finding and reading documents: files, folders, glob patterns and URLs; text, Markdown, HTML,
PDF and code.

HTML becomes Markdown (BeautifulSoup drops scripts and styles, markdownify converts), PDF text
comes from pypdf, everything else is read as UTF-8 text. A URL is fetched only when it is given
(with httpx), saved under a download folder, and its chunks keep the URL as their source.
"""

from __future__ import annotations

import glob
import hashlib
import logging
import os
import re
import stat
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlsplit, urlunsplit

logger = logging.getLogger(__name__)

# Classic's text formats (pdf included), plus source code: a folder's code files are documents too.
CODE_FORMATS = ["py", "ipynb", "js", "jsx", "ts", "tsx", "java", "kt", "scala", "c", "h", "cc", "cpp", "hpp", "cs", "go",
                "rs", "rb", "php", "swift", "sh", "bash", "sql", "r", "jl", "lua", "pl", "toml", "ini", "cfg"]
TEXT_FORMATS = ["txt", "json", "csv", "tsv", "md", "html", "htm", "rtf", "rst", "jsonl", "log", "xml", "yaml", "yml", "pdf",
                *CODE_FORMATS]
# Classic parsed these with the optional `unstructured` package; parley reads pdf itself and
# leaves the others to a custom_text_split_function or a conversion before indexing.
UNSTRUCTURED_FORMATS = ["doc", "docx", "epub", "msg", "odt", "org", "pdf", "ppt", "pptx", "rtf", "rst", "xlsx"]

_GLOB_CHARS = re.compile(r"[*?\[]")


def is_url(string: str) -> bool:
    """True for an http(s) or ftp URL with a host."""
    try:
        parsed = urlparse(string)
    except (ValueError, AttributeError):
        return False
    return parsed.scheme in ("http", "https", "ftp") and bool(parsed.netloc)


def _file_name_for_url(url: str) -> str:
    parsed = urlparse(url)
    tail = os.path.basename(parsed.path.rstrip("/")) or parsed.netloc
    tail = re.sub(r"[^A-Za-z0-9._-]", "_", tail)[:80]
    digest = hashlib.sha256(url.encode()).hexdigest()[:12]
    return f"{digest}-{tail}"


MAX_DOWNLOAD_BYTES = 64 * 1024 * 1024
"""The most a docs_path URL may send: a bigger answer is dropped (logged) before it fills memory or disk."""


def _origin(url: Any) -> tuple[str, str, int | None]:
    parts = urlsplit(str(url))
    return parts.scheme, (parts.hostname or "").lower(), parts.port or {"http": 80, "https": 443}.get(parts.scheme)


def shown_url(url: str) -> str:
    """``url`` for logs: without user info, query or fragment, where passwords and tokens live."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class _Refused(Exception):
    pass


def _download_folder() -> Path:
    """This user's own download folder under the system's temp folder: made private, and refused
    when another user (or a symlink) holds its name."""
    folder = Path(tempfile.gettempdir()) / f"parley-retrieval-downloads-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
    except FileExistsError:
        pass
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise ValueError(f"download folder {folder} is not a private folder of this user: remove it, or give save_path")
    return folder


def get_file_from_url(url: str, save_path: str | None = None, *, timeout: float = 30.0,
                      max_bytes: int = MAX_DOWNLOAD_BYTES, other_hosts: bool = False) -> tuple[str, str] | None:
    """Download ``url`` to ``save_path`` (default: a file in this user's private download folder
    under the system's temp folder, named after the URL).

    Returns ``(path, url)``, or None when the download failed (logged without the URL's user
    info or query). An HTML page is saved with an ``.html`` suffix so that it is read as HTML.
    At most ``max_bytes`` are read. A redirect to another host (or from https to http) is refused
    unless ``other_hosts``: only the host the URL names is asked.
    """
    try:
        import httpx
    except ImportError:
        raise ImportError("fetching documents from URLs needs httpx: pip install 'parley[retrieval]'") from None
    origin = _origin(url)

    def same_host(request: Any) -> None:
        if not other_hosts and _origin(request.url) != origin:
            raise _Refused(f"it redirects to another host ({shown_url(str(request.url))}); "
                           "get_file_from_url(..., other_hosts=True) follows it")

    body = bytearray()
    try:
        with httpx.Client(timeout=timeout, follow_redirects=True, event_hooks={"request": [same_host]}) as client, \
                client.stream("GET", url) as response:
            response.raise_for_status()
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise _Refused(f"it is {declared} bytes, more than max_bytes={max_bytes}")
            for piece in response.iter_bytes():
                body += piece
                if len(body) > max_bytes:
                    raise _Refused(f"it is more than max_bytes={max_bytes}")
            kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    except _Refused as exc:
        logger.warning("could not fetch %s: %s", shown_url(url), exc)
        return None
    except httpx.HTTPStatusError as exc:
        logger.warning("could not fetch %s: HTTP %s", shown_url(url), exc.response.status_code)
        return None
    except httpx.HTTPError as exc:  # its text names the URL, credentials included: only its kind is logged
        logger.warning("could not fetch %s: %s", shown_url(url), type(exc).__name__)
        return None
    if save_path is None:
        name = _file_name_for_url(url)
        if kind == "text/html" and not name.lower().endswith((".html", ".htm")):
            name += ".html"
        elif kind == "application/pdf" and not name.lower().endswith(".pdf"):
            name += ".pdf"
        save_path = str(_download_folder() / name)
    # Not through a symlink someone left at the name.
    fd = os.open(save_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(body)
    return save_path, url


def _normal_types(types: list[str]) -> set[str]:
    if not types:
        raise ValueError("custom_text_types (types) cannot be empty")
    return {t.lower().lstrip(".") for t in types}


def get_files_from_dir(dir_path: str | list[str], types: list[str] = TEXT_FORMATS, recursive: bool = True) -> list:
    """The files that ``dir_path`` names: a file, a folder (its files of ``types``, in sub-folders when
    ``recursive``), a glob pattern, a URL (downloaded: an item ``(path, url)``), or a list of these.

    A folder or pattern that names nothing is a ValueError; in a list it is skipped with a warning.
    """
    wanted = _normal_types(types)
    if isinstance(dir_path, (list, tuple)):
        files: list = []
        for item in dir_path:
            try:
                files.extend(get_files_from_dir(item, types, recursive))
            except ValueError as exc:
                logger.warning("skipping docs_path item %r: %s", item, exc)
        return files
    if not isinstance(dir_path, (str, os.PathLike)):
        raise TypeError(f"docs_path must be a path, URL, glob pattern or a list of them, not {type(dir_path).__name__}")
    dir_path = os.fspath(dir_path)
    if os.path.isfile(dir_path):
        return [dir_path]
    if is_url(dir_path):
        got = get_file_from_url(dir_path)
        return [got] if got else []
    if os.path.isdir(dir_path):
        pattern = os.path.join(dir_path, "**", "*") if recursive else os.path.join(dir_path, "*")
        return sorted(p for p in glob.glob(pattern, recursive=recursive)
                      if os.path.isfile(p) and os.path.splitext(p)[1].lower().lstrip(".") in wanted)
    if _GLOB_CHARS.search(dir_path):
        matches = sorted(p for p in glob.glob(dir_path, recursive=True) if os.path.isfile(p))
        if not matches:
            raise ValueError(f"docs_path pattern {dir_path!r} matches no files")
        return matches
    raise ValueError(f"docs_path {dir_path!r} is not a file, folder, glob pattern or URL")


def parse_html_to_markdown(html: str, url: str | None = None) -> str:
    """The readable part of an HTML page as Markdown (scripts, styles and navigation chrome dropped)."""
    try:
        import markdownify
        from bs4 import BeautifulSoup
    except ImportError:
        raise ImportError("reading HTML needs beautifulsoup4 and markdownify: pip install 'parley[retrieval]'") from None
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "svg"]):
        tag.decompose()
    title = soup.title.get_text(strip=True) if soup.title else ""
    body = soup.find("main") or soup.find("article") or soup.body or soup
    text = markdownify.markdownify(str(body), heading_style="ATX")
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    if title and title not in text[:200]:
        text = f"# {title}\n\n{text}"
    return text


def extract_text_from_pdf(file: str) -> str:
    """The text of a PDF's pages (an encrypted one is tried with the empty password; unreadable: "")."""
    try:
        import pypdf
    except ImportError:
        raise ImportError("reading PDF needs pypdf: pip install 'parley[retrieval]'") from None
    reader = pypdf.PdfReader(file)
    if reader.is_encrypted:
        try:
            reader.decrypt("")
        except Exception as exc:  # pypdf raises several kinds for a password it cannot open
            logger.warning("could not decrypt PDF %s: %s", file, exc)
            return ""
    text = "\n\n".join((page.extract_text() or "").strip() for page in reader.pages)
    if not text.strip():
        logger.warning("no text found in PDF %s (a scanned document needs OCR first)", file)
    return text


def read_document(path: str) -> str:
    """A document's text, by its suffix: PDF, HTML (as Markdown), else UTF-8 text."""
    suffix = os.path.splitext(path)[1].lower()
    if suffix == ".pdf":
        return extract_text_from_pdf(path)
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    if suffix in (".html", ".htm"):
        return parse_html_to_markdown(text)
    return text


__all__ = ["CODE_FORMATS", "TEXT_FORMATS", "UNSTRUCTURED_FORMATS", "extract_text_from_pdf", "get_file_from_url",
           "get_files_from_dir", "is_url", "parse_html_to_markdown", "read_document"]
