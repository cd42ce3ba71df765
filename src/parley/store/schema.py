"""The run store's tables (SQLAlchemy Core).

Every table is prefixed ``parley_`` so the store can live in a database shared with other
applications (a Postgres schema, say). JSON payloads are stored as text: portable across SQLite
and Postgres, and cheap to write. Changes to these tables go through an Alembic migration in
``migrations/versions``; ``SCHEMA_REVISION`` names the newest one.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from .text import escape, unescape

SCHEMA_REVISION = "0008"
"""The Alembic head revision this code writes (checked against the scripts by a test)."""
VERSION_TABLE = "parley_alembic_version"


class StoredText(sa.types.TypeDecorator):
    """Text that may hold any Python string: escaped when written, unescaped when read (see
    ``parley.store.text``). The DDL is plain TEXT. The recorder's bulk inserts bypass SQLAlchemy's
    type processing and escape their values themselves."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        return escape(value) if isinstance(value, str) else value

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Any:
        return unescape(value) if isinstance(value, str) else value

    def process_literal_param(self, value: Any, dialect: sa.Dialect) -> str:
        return self.process_bind_param(value, dialect)

    @property
    def python_type(self) -> type:
        return str


Name = StoredText  # agent, tool and model names: any length, any characters (TEXT since revision 0003)

metadata = sa.MetaData()

runs = sa.Table(
    "parley_runs", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("session_id", sa.String(36), index=True),  # runtime_logging session that recorded it
    sa.Column("kind", sa.String(20), nullable=False),  # "chat", "group_chat", "sequential"
    sa.Column("status", sa.String(20), nullable=False),  # running, waiting_input, finished, interrupted, failed
    sa.Column("reason", sa.String(40)),  # the ChatFinished reason of the run's last top-level chat
    sa.Column("initiator", Name),
    sa.Column("recipient", Name),
    sa.Column("title", StoredText),
    sa.Column("summary", StoredText),
    sa.Column("pid", sa.Integer),  # the process writing it, to refuse resuming a run that is still live
    sa.Column("host", sa.String(255)),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)

chats = sa.Table(
    "parley_chats", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("run_id", sa.String(36), sa.ForeignKey("parley_runs.id"), nullable=False, index=True),
    sa.Column("parent_id", sa.String(32)),  # the chat a nested chat ran inside
    sa.Column("sender", Name, nullable=False),
    sa.Column("recipient", Name, nullable=False),
    sa.Column("message", StoredText),  # JSON of the initial message when it was given (not a callable)
    sa.Column("max_turns", sa.Integer),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("reason", sa.String(40)),
    sa.Column("summary", StoredText),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("finished_at", sa.Float),
)


def _event_table(name: str, *columns: sa.Column) -> sa.Table:
    return sa.Table(
        name, metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(36), sa.ForeignKey("parley_runs.id"), nullable=False),
        sa.Column("chat_id", sa.String(32), nullable=False),
        *columns,
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Index(f"ix_{name}_run", "run_id", "id"),
    )


messages = _event_table(
    "parley_messages",
    sa.Column("sender", Name, nullable=False),
    sa.Column("recipient", Name, nullable=False),
    sa.Column("message", StoredText, nullable=False),  # JSON, as the recipient stored it
    sa.Column("produced_by", Name),  # the reply function that produced it (None: an initial message)
)

model_calls = _event_table(
    "parley_model_calls",
    sa.Column("agent", Name),
    sa.Column("model", Name, nullable=False),
    sa.Column("prompt_tokens", sa.Integer, nullable=False),
    sa.Column("completion_tokens", sa.Integer, nullable=False),
    sa.Column("cost", sa.Float, nullable=False),
    sa.Column("latency_s", sa.Float, nullable=False),
    sa.Column("cached", sa.Boolean, nullable=False),
    sa.Column("purpose", sa.String(40), nullable=False),
)

tool_calls = _event_table(
    "parley_tool_calls",
    sa.Column("agent", Name, nullable=False),
    sa.Column("tool", Name, nullable=False),
    sa.Column("tool_call_id", Name),
    sa.Column("arguments", StoredText, nullable=False),
    sa.Column("result", StoredText, nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Column("latency_s", sa.Float, nullable=False),
)

code_executions = _event_table(
    "parley_code_executions",
    sa.Column("agent", Name, nullable=False),
    sa.Column("language", Name, nullable=False),
    sa.Column("code", StoredText, nullable=False),
    sa.Column("exit_code", sa.Integer, nullable=False),
    sa.Column("output", StoredText, nullable=False),
    sa.Column("executor", Name, nullable=False),
    sa.Column("latency_s", sa.Float, nullable=False),
)

# Code executions and tool calls in the order they ran, each with its whole result, committed
# before the result is used: a resumed run takes a result from here instead of running the same
# code or call again at the same point of the chat (``parley.effects``).
side_effects = _event_table(
    "parley_side_effects",
    sa.Column("agent", Name, nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),  # "code" or "tool"
    sa.Column("position", sa.Integer, nullable=False),  # the length of the history the agent answered
    sa.Column("digest", sa.String(64), nullable=False),  # sha256 of what ran (blocks; tool name and arguments)
    sa.Column("result", StoredText, nullable=False),  # JSON
)

human_inputs = _event_table(
    "parley_human_inputs",
    sa.Column("agent", Name, nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),  # "request" (text = prompt) or "reply"
    sa.Column("text", StoredText, nullable=False),
)

speaker_selections = _event_table(
    "parley_speaker_selections",
    sa.Column("manager", Name, nullable=False),
    sa.Column("speaker", Name, nullable=False),
    sa.Column("method", Name, nullable=False),
    sa.Column("round", sa.Integer, nullable=False),
)

# Where an answer came from (revision 0008, ``parley.retrieval``): the documents a retrieval found
# and the chunks it put in the prompt, the memos a teachable agent recalled, the memos it stored.
retrievals = _event_table(
    "parley_retrievals",
    sa.Column("agent", Name, nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),  # "documents", "memos" (recalled) or "memo_stored"
    sa.Column("query", StoredText),  # what was looked up (None for a stored memo)
    sa.Column("collection", Name),  # the vector store collection searched ("documents")
    # JSON list: documents {"id", "source", "distance"} nearest first; recalled memos {"id", "input",
    # "output", "distance"}; the stored memo {"id", "input", "output"}
    sa.Column("results", StoredText, nullable=False),
    sa.Column("used", StoredText),  # JSON list of the chunk ids that went into the prompt, in order ("documents")
)


# The classic runtime log's model calls, in full (request and response as JSON), written only in
# a runtime-logging session; its columns are classic AutoGen's ``chat_completions`` (read through
# a view of that name, made by the migration), plus where parley ran it.
chat_completions = sa.Table(
    "parley_chat_completions", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("invocation_id", sa.String(36), nullable=False),
    sa.Column("client_id", sa.BigInteger),  # classic: id() of the client object (None when parley records the call)
    sa.Column("wrapper_id", sa.BigInteger),  # classic: id() of the wrapper (likewise)
    sa.Column("session_id", sa.String(36), index=True),
    sa.Column("source_name", Name),  # the agent
    sa.Column("request", StoredText, nullable=False),  # JSON: model, messages, generation params, tools
    sa.Column("response", StoredText, nullable=False),  # JSON, shaped like a ChatCompletion
    sa.Column("is_cached", sa.Integer, nullable=False),
    sa.Column("cost", sa.Float, nullable=False),
    sa.Column("start_time", sa.String(32), nullable=False),  # "YYYY-MM-DD HH:MM:SS.ffffff" UTC, as classic
    sa.Column("end_time", sa.String(32), nullable=False),
    sa.Column("run_id", sa.String(36)),  # the run it was made in (none outside a chat)
    sa.Column("chat_id", sa.String(32)),
)


# The rest of the classic runtime log (revision 0004), written by ``runtime_logging.log_*``: the
# agents, model wrappers and clients made, function calls and free-form events of a session. Each
# is read under its classic name through a view; ``*_id`` columns hold Python ``id()`` values, as
# classic; ``init_args`` / ``json_state`` are JSON without secrets (``runtime_logging``).
classic_agents = sa.Table(
    "parley_agents", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("agent_id", sa.BigInteger),
    sa.Column("wrapper_id", sa.BigInteger),
    sa.Column("session_id", sa.String(36), index=True),
    sa.Column("name", Name),
    sa.Column("class_name", Name),
    sa.Column("init_args", StoredText),
    sa.Column("timestamp", sa.String(32)),
    sa.UniqueConstraint("agent_id", "session_id", name="uq_parley_agents_agent_session"),
)

classic_oai_wrappers = sa.Table(
    "parley_oai_wrappers", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("wrapper_id", sa.BigInteger),
    sa.Column("session_id", sa.String(36), index=True),
    sa.Column("init_args", StoredText),
    sa.Column("timestamp", sa.String(32)),
    sa.UniqueConstraint("wrapper_id", "session_id", name="uq_parley_oai_wrappers_wrapper_session"),
)

classic_oai_clients = sa.Table(
    "parley_oai_clients", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("client_id", sa.BigInteger),
    sa.Column("wrapper_id", sa.BigInteger),
    sa.Column("session_id", sa.String(36), index=True),
    sa.Column("class_name", Name),
    sa.Column("init_args", StoredText),
    sa.Column("timestamp", sa.String(32)),
    sa.UniqueConstraint("client_id", "session_id", name="uq_parley_oai_clients_client_session"),
)

classic_function_calls = sa.Table(
    "parley_function_calls", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("session_id", sa.String(36), index=True),
    sa.Column("source_id", sa.BigInteger),
    sa.Column("source_name", Name),
    sa.Column("function_name", Name),
    sa.Column("args", StoredText),
    sa.Column("returns", StoredText),
    sa.Column("timestamp", sa.String(32)),
)

classic_events = sa.Table(
    "parley_events", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("session_id", sa.String(36), index=True),
    sa.Column("event_name", Name),
    sa.Column("source_id", sa.BigInteger),
    sa.Column("source_name", Name),
    sa.Column("agent_module", Name),
    sa.Column("agent_class_name", Name),
    sa.Column("json_state", StoredText),
    sa.Column("timestamp", sa.String(32)),
)

run_specs = sa.Table(
    # The team spec a run was started from (``parley run``), so that ``parley resume`` can build
    # the same team again in another process.
    "parley_run_specs", metadata,
    sa.Column("run_id", sa.String(36), sa.ForeignKey("parley_runs.id"), primary_key=True),
    sa.Column("digest", sa.String(64), nullable=False),  # sha256 of the document (parley.spec.Team.digest)
    sa.Column("name", Name),
    sa.Column("document", StoredText, nullable=False),  # the spec as JSON
    sa.Column("options", StoredText, nullable=False),  # JSON: how it was run (model, task, allowed modules)
    sa.Column("created_at", sa.Float, nullable=False),
)


# parley Studio (revision 0006): its accounts, their login sessions, the teams saved in it and the
# runs it started (owner, and what it needs to resume them after a restart).
studio_users = sa.Table(
    "parley_studio_users", metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("password_hash", sa.Text, nullable=False),  # scrypt: "scrypt$n$r$p$salt$hash" (hex)
    sa.Column("created_at", sa.Float, nullable=False),
)

studio_sessions = sa.Table(
    "parley_studio_sessions", metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),  # sha256 of the session token (the token is never stored)
    sa.Column("user", sa.String(64), sa.ForeignKey("parley_studio_users.name"), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
)

studio_teams = sa.Table(
    "parley_studio_teams", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("owner", sa.String(64), index=True),  # None: no accounts (the token's holder)
    sa.Column("name", StoredText),
    sa.Column("document", StoredText, nullable=False),  # the team spec as JSON
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)

studio_runs = sa.Table(
    "parley_studio_runs", metadata,
    sa.Column("run_id", sa.String(36), primary_key=True),  # the run store's run id
    sa.Column("owner", sa.String(64), index=True),
    sa.Column("team_id", sa.String(32)),  # the saved team it was started from, if any
    sa.Column("team_name", StoredText),
    sa.Column("state", sa.String(20), nullable=False),  # active (resumed after a restart), stopped, done
    sa.Column("answer", StoredText),  # the last answer given to a human-input request ...
    sa.Column("answer_for", sa.Float),  # ... and the time of that request (a resume gives it again if unrecorded)
    sa.Column("holder", sa.String(120)),  # the server process running it ("host:pid:nonce"), while it does
    sa.Column("held_until", sa.Float),  # its lease: renewed while it runs; past it, another process may take the run
    sa.Column("created_at", sa.Float, nullable=False),
)


# The images in stored messages and prompts (revision 0007), each stored once by its sha256: a
# message's or prompt's JSON names one as the URL ``parley-image:<digest>`` (``parley.images``)
# instead of holding its base64, which a chat would otherwise repeat in every prompt record.
images = sa.Table(
    "parley_images", metadata,
    sa.Column("digest", sa.String(64), primary_key=True),  # sha256 of the bytes, hex
    sa.Column("media_type", sa.String(100), nullable=False),
    sa.Column("name", StoredText),  # the file it came from, when known (what transcripts show)
    sa.Column("width", sa.Integer),
    sa.Column("height", sa.Integer),
    sa.Column("size", sa.Integer, nullable=False),  # bytes
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)
