"""The team spec document: pydantic models of what the classic API builds, under its names.

A spec is data only: agents (keyed by name) with their constructor parameters, named model
references, tools and termination predicates by import path, group chats, nested chats, and how
the run starts (one chat, or a queue of sequential chats). Validation here checks shapes and
values; ``references`` checks that the names point at things that exist.
"""

from __future__ import annotations

import re
import string
import urllib.parse
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

SPEC_VERSION = 1
AGENT_CLASSES = ("ConversableAgent", "AssistantAgent", "UserProxyAgent", "GroupChatManager", "RetrieveUserProxyAgent",
                 "RetrieveAssistantAgent", "MultimodalConversableAgent")
AgentClass = Literal["ConversableAgent", "AssistantAgent", "UserProxyAgent", "GroupChatManager", "RetrieveUserProxyAgent",
                     "RetrieveAssistantAgent", "MultimodalConversableAgent"]
IMPORT_PATH = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
SPEAKER_METHODS = ("auto", "manual", "random", "round_robin")
EXECUTORS = ("local", "sandbox", "docker", "jupyter")
SUMMARY_METHODS = ("last_msg", "reflection_with_llm")

# Names of agents, models, tools and group chats: printed on terminals and put into prompts, so
# no control characters, spaces or lookalike letters (an escape sequence in a name can hide a line
# of the validation report).
NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}\Z")
NAME_RULE = "1-64 ASCII letters, digits, '_', '.' or '-', not starting with '.' or '-'"
# A team's name is a title people type ("my research"): single spaces inside are fine too.
TEAM_NAME = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_.-]| (?=[A-Za-z0-9_.-])){0,63}\Z")
TEAM_NAME_RULE = "1-64 ASCII letters, digits, '_', '.', '-' or single spaces, not starting with '.', '-' or a space"
# The fields a speaker-selection template may use, bare: a format spec ({agentlist:>400000000})
# would let a spec make a string of any size.
TEMPLATE_FIELDS = ("roles", "agentlist")
# Upper bounds that keep a spec from asking for a day-long block or a gigabyte of output.
MAX_CODE_TIMEOUT_S = 86_400
MAX_OUTPUT_BYTES = 16 * 2**20
MAX_ROUNDS = 10_000
MAX_MODEL_TIMEOUT_S = 3_600.0

NonNegativeInt = Annotated[StrictInt, Field(ge=0)]
# inf and nan are no temperature or price; a dump (JSON mode) would also write them as null.
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
PositiveInt = Annotated[StrictInt, Field(ge=1)]
TurnCount = Annotated[StrictInt, Field(ge=1, le=MAX_ROUNDS)]


def check_name(kind: str, value: Any) -> None:
    if isinstance(value, str) and not NAME.match(value):
        raise ValueError(f"{kind} name {value!a} is not allowed: use {NAME_RULE}")


def _check_names(kind: str, value: Any) -> Any:
    if isinstance(value, dict):
        for key in value:
            check_name(kind, key)
    return value


def check_template(value: str) -> str:
    try:
        fields = list(string.Formatter().parse(value))
    except ValueError as error:
        raise ValueError(f"is not a valid template ({error}); write literal braces as {{{{ and }}}}") from None
    for _, field_name, spec, conversion in fields:
        if field_name is None:
            continue
        if field_name not in TEMPLATE_FIELDS or spec or conversion:
            raise ValueError(f"may only use the fields {{roles}} and {{agentlist}}, bare (no format spec or conversion); "
                             f"got {{{ascii(field_name)[1:-1]}{'!' + conversion if conversion else ''}"
                             f"{':' + spec[:20] if spec else ''}}}")
    return value


def check_base_url(value: str) -> str:
    """No credentials in a URL: a spec is shared, stored with its runs and printed."""
    from ..models.secrets import is_secret_query_param

    try:
        parts = urllib.parse.urlsplit(value)
    except ValueError:
        raise ValueError("is not a valid URL") from None
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not hold credentials (user:password@): give the key as api_key: {env: NAME}")
    if any(is_secret_query_param(name) for name, _ in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)):
        raise ValueError("must not hold credentials in its query (key=, token=, ...): give the key as api_key: {env: NAME}")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _kind(value: Any) -> str:
    """What a wrong value is, without the value (it may be a secret)."""
    return {dict: "a mapping", list: "a list", str: "a string", bool: "true or false", type(None): "null"}.get(
        type(value), f"a {type(value).__name__}")


def check_import_path(value: Any) -> str:
    if not isinstance(value, str) or not IMPORT_PATH.match(value):
        # The value is not repeated: a mistyped field may hold a secret.
        raise ValueError("must be an import path 'module:function' (like 'mypkg.tools:search')")
    return value


class EnvReference(_Strict):
    """A secret named, not written: the value comes from the environment variable ``env``."""

    env: StrictStr = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")


class ConfigListReference(_Strict):
    """The classic ``config_list_from_json(env_or_file, file_location, filter_dict)``."""

    env_or_file: StrictStr = "OAI_CONFIG_LIST"
    file_location: StrictStr | None = None
    filter_dict: dict[str, Any] | None = None


# The rules of the models below are plain functions, which their validators call: mutation testing
# (mutmut, docs/mutation.md) skips decorated functions, so a rule written inside a validator would
# never be checked by it.


def refuse_literal_key(value: Any) -> Any:
    """``api_key`` only as a reference ``{env: NAME}``."""
    if isinstance(value, str):
        # The value itself is never repeated in the error (it is a secret). ValueError, not
        # TypeError: pydantic turns only ValueError into a validation error.
        raise ValueError("a literal API key can't be in a spec: write api_key: {env: NAME} "
                         "or use an OAI_CONFIG_LIST reference")
    return value


class ModelEntry(_Strict):
    """One config_list entry written in the spec; its key only as ``api_key: {env: NAME}``."""

    model: StrictStr
    api_key: EnvReference | None = None
    base_url: StrictStr | None = None
    api_type: StrictStr | None = None
    api_version: StrictStr | None = None
    tags: list[StrictStr] | None = None
    price: list[FiniteFloat] | None = None

    @field_validator("base_url")
    @classmethod
    def _no_credentials(cls, value: str | None) -> str | None:
        return None if value is None else check_base_url(value)

    @field_validator("api_key", mode="before")
    @classmethod
    def _no_literal_key(cls, value: Any) -> Any:
        return refuse_literal_key(value)


def check_config_list_shape(value: Any) -> Any:
    """A ``config_list`` is a reference (a mapping) or a list of entries, nothing else."""
    if not isinstance(value, (dict, list)):
        # ValueError, not TypeError: pydantic turns only ValueError into a validation error.
        raise ValueError("must be a reference {env_or_file: OAI_CONFIG_LIST, filter_dict: {...}} "
                         f"or a list of entries, got {type(value).__name__}")
    return value


class ModelSpec(_Strict):
    """An ``llm_config``: where its config_list comes from, and the classic options."""

    config_list: ConfigListReference | list[ModelEntry]
    temperature: FiniteFloat | None = None
    top_p: FiniteFloat | None = None
    max_tokens: PositiveInt | None = None
    seed: StrictInt | None = None
    cache_seed: StrictInt | None = None
    timeout: Annotated[float, Field(gt=0, le=MAX_MODEL_TIMEOUT_S)] | None = None

    @field_validator("config_list", mode="before")
    @classmethod
    def _shape(cls, value: Any) -> Any:
        return check_config_list_shape(value)


class TerminationSpec(_Strict):
    """A termination predicate: exactly one of the words tests, or an import path."""

    ends_with: StrictStr | None = None
    contains: StrictStr | None = None
    equals: StrictStr | None = None
    function: StrictStr | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> TerminationSpec:
        return check_termination(self)


def check_termination(spec: TerminationSpec) -> TerminationSpec:
    given = [name for name in ("ends_with", "contains", "equals", "function") if getattr(spec, name) is not None]
    if len(given) != 1:
        raise ValueError(f"must have exactly one of ends_with, contains, equals, function; got {given or 'none'}")
    if spec.function is not None:
        check_import_path(spec.function)
    return spec


class CodeExecutionSpec(_Strict):
    """A classic ``code_execution_config``; unsandboxed only with ``use_docker: false`` or
    ``executor: local`` written out."""

    work_dir: StrictStr | None = None
    """Checked where the run happens (``workdirs``): relative, under the run's folder."""
    use_docker: Any = None
    timeout: Annotated[StrictInt, Field(ge=1, le=MAX_CODE_TIMEOUT_S)] | None = None
    last_n_messages: NonNegativeInt | Literal["auto"] | None = None
    executor: Literal["local", "sandbox", "docker", "jupyter"] | None = None
    max_output_bytes: Annotated[StrictInt, Field(ge=1, le=MAX_OUTPUT_BYTES)] | None = None

    @field_validator("use_docker", mode="before")
    @classmethod
    def _use_docker(cls, value: Any) -> Any:
        return check_use_docker(value)

    @property
    def unsandboxed(self) -> bool:
        return runs_unsandboxed(self)


def check_use_docker(value: Any) -> Any:
    """true, false, an image name or a list of them; a string that reads like a boolean is refused
    (``"false"`` is an image name to Docker, so the code would not run where the writer meant)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("false", "no", "off", "0", "true", "yes", "on", "1", ""):
        raise ValueError(f"must be true, false or an image name; {value!a} is a string (an image name): write "
                         "false (no quotes) to run code unsandboxed on this machine, or true for Docker")
    if isinstance(value, str) or (isinstance(value, list) and value and all(isinstance(v, str) for v in value)):
        return value
    raise ValueError(f"must be true, false, an image name or a list of image names, got {_kind(value)}")


def runs_unsandboxed(config: CodeExecutionSpec) -> bool:
    """Whether ``config`` asks for code to run on this machine without a sandbox."""
    return config.use_docker is False or config.executor in ("local", "jupyter")


class NestedChatEntry(_Strict):
    """One chat of a nested chat queue (the agent itself is the sender unless ``sender`` is given)."""

    recipient: StrictStr
    sender: StrictStr | None = None
    message: StrictStr | None = None
    summary_method: Literal["last_msg", "reflection_with_llm"] | None = None
    summary_args: dict[str, StrictStr] | None = None
    max_turns: TurnCount | None = None
    clear_history: StrictBool | None = None


class NestedChatSpec(_Strict):
    """``agent.register_nested_chats(chat_queue, trigger=...)``: trigger is an agent name or a list."""

    trigger: StrictStr | list[StrictStr]
    chat_queue: list[NestedChatEntry] = Field(min_length=1)
    position: NonNegativeInt | None = None


class PlacementSpec(_Strict):
    """Where a placed agent lives: a Ray actor on a node offering ``resources``
    (``parley.distributed.remote``); its model, tools and code executor run there, the chat's
    loop stays with the run. Data only: the actor is started when the team is built."""

    resources: dict[str, float] = Field(min_length=1)
    """Ray custom resources the node must offer, e.g. ``{gpu_box: 1}``."""
    num_gpus: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    max_restarts: Annotated[StrictInt, Field(ge=0, le=100)] | None = None
    """How often Ray restarts the actor when it dies (default 3); a reply cut off is asked again."""

    @field_validator("resources", mode="before")
    @classmethod
    def _resources(cls, value: Any) -> Any:
        return check_resources(value)


RETRIEVE_FUNCTIONS = ("embedding_function", "custom_token_count_function", "custom_text_split_function")
RESOURCE_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,100}")


def check_resources(value: Any) -> Any:
    """Ray custom resources: names Ray accepts, not its built-in ones, each a positive finite amount."""
    if not isinstance(value, dict):
        raise ValueError(f"must be a mapping of Ray resource names to amounts, e.g. {{gpu_box: 1}}, got {_kind(value)}")
    for name, amount in value.items():
        if not isinstance(name, str) or not RESOURCE_NAME.fullmatch(name):
            raise ValueError(f"resource name {ascii(name)[:60]} must be letters, digits, '_', '-', '.' or ':'")
        if name in ("CPU", "GPU", "memory", "object_store_memory"):
            raise ValueError(f"{name} is not a custom resource: a placed agent reserves no CPU "
                             "(num_cpus=0), and GPUs are asked with num_gpus")
        if isinstance(amount, bool) or not isinstance(amount, (int, float)) or not 0 < amount < float("inf"):
            raise ValueError(f"resources.{name} must be a positive number, got {ascii(amount)[:60]}")
    return value


class ChromaConfigSpec(_Strict):
    """``retrieve_config.db_config`` of the Chroma store: the folder it keeps its index in,
    checked like a work_dir (relative, under the run's folder, unless granted)."""

    path: StrictStr | None = None


def check_docs_path(value: Any) -> Any:
    if isinstance(value, list) and not value:
        raise ValueError("must name at least one file, folder or URL (or leave docs_path out)")
    return value


class RetrieveConfigSpec(_Strict):
    """A ``RetrieveUserProxyAgent``'s classic ``retrieve_config``, as data: the documents are
    paths under the run's folder (others, and URLs, only when granted: ``access``); functions only
    by import path from allowed modules; the store is Chroma (pgvector's connection holds a
    password, and an object can't be written in a spec). Nothing is read or indexed until the
    agent's first retrieval in a run."""

    task: Literal["code", "qa", "default"] | None = None
    docs_path: StrictStr | list[StrictStr] | None = None
    extra_docs: StrictBool | None = None
    new_docs: StrictBool | None = None
    model: StrictStr | None = None
    chunk_token_size: PositiveInt | None = None
    context_max_tokens: PositiveInt | None = None
    chunk_mode: Literal["multi_lines", "one_line"] | None = None
    must_break_at_empty_line: StrictBool | None = None
    embedding_model: StrictStr | None = None
    embedding_function: StrictStr | None = None
    """Import path of a function ``list[str] -> list[list[float]]`` in an allowed module."""
    custom_token_count_function: StrictStr | None = None
    custom_text_split_function: StrictStr | None = None
    customized_prompt: StrictStr | None = None
    customized_answer_prefix: StrictStr | None = None
    update_context: StrictBool | None = None
    collection_name: StrictStr | None = Field(None, min_length=1, max_length=63)
    get_or_create: StrictBool | None = None
    overwrite: StrictBool | None = None
    custom_text_types: list[StrictStr] | None = None
    recursive: StrictBool | None = None
    distance_threshold: Annotated[float, Field(allow_inf_nan=False)] | None = None
    n_results: Annotated[StrictInt, Field(ge=1, le=10_000)] | None = None
    vector_db: Literal["chroma"] | None = None
    db_config: ChromaConfigSpec | None = None

    @field_validator("embedding_function", "custom_token_count_function", "custom_text_split_function", mode="before")
    @classmethod
    def _function(cls, value: Any) -> Any:
        return None if value is None else check_import_path(value)

    @field_validator("docs_path")
    @classmethod
    def _docs_path(cls, value: Any) -> Any:
        return check_docs_path(value)

    def paths(self) -> list[tuple[str, str]]:
        """(field, value) of each path this config reads or writes: docs_path entries, db_config.path."""
        docs = [self.docs_path] if isinstance(self.docs_path, str) else self.docs_path or []
        found = [("docs_path", p) for p in docs]
        if self.db_config is not None and self.db_config.path is not None:
            found.append(("db_config.path", self.db_config.path))
        return found


class TeachabilitySpec(_Strict):
    """``Teachability(...).add_to_agent(agent)``: memos kept in ``path_to_db_dir`` (a folder under
    the run's folder unless granted, like a work_dir); its analyzer uses the agent's model."""

    path_to_db_dir: StrictStr | None = None
    reset_db: StrictBool | None = None
    recall_threshold: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    max_num_retrievals: Annotated[StrictInt, Field(ge=1, le=10_000)] | None = None
    verbosity: Annotated[StrictInt, Field(ge=0, le=3)] | None = None


class AgentSpec(_Strict):
    """One agent: its class and constructor parameters under their classic names."""

    class_: AgentClass = Field("ConversableAgent", alias="class")
    system_message: StrictStr | None = None
    description: StrictStr | None = None
    human_input_mode: Literal["ALWAYS", "TERMINATE", "NEVER"] | None = None
    max_consecutive_auto_reply: NonNegativeInt | None = None
    default_auto_reply: StrictStr | None = None
    llm_config: StrictStr | Literal[False] | None = None
    code_execution_config: CodeExecutionSpec | Literal[False] | None = None
    is_termination_msg: TerminationSpec | None = None
    silent: StrictBool | None = None
    groupchat: StrictStr | None = None
    nested_chats: list[NestedChatSpec] | None = None
    placement: PlacementSpec | None = None
    """In a Ray actor placed by resources, not in the run's process (docs/distributed.md)."""
    retrieve_config: RetrieveConfigSpec | None = None
    """A RetrieveUserProxyAgent's documents and store (docs/retrieval.md)."""

    teachability: TeachabilitySpec | None = None
    """Make the agent teachable (docs/retrieval.md); it needs a model."""

    @model_validator(mode="after")
    def _retrieve_config_of_retrieve_agents(self) -> AgentSpec:
        return check_agent(self)

    @field_validator("llm_config", mode="before")
    @classmethod
    def _llm_config(cls, value: Any) -> Any:
        return check_llm_config(value)

    @field_validator("code_execution_config", mode="before")
    @classmethod
    def _code_execution_config(cls, value: Any) -> Any:
        return check_code_execution_config(value)


def check_agent(agent: AgentSpec) -> AgentSpec:
    """What one agent's fields say about each other: retrieval and teachability."""
    if agent.retrieve_config is not None and agent.class_ != "RetrieveUserProxyAgent":
        raise ValueError(f"retrieve_config is for class RetrieveUserProxyAgent only (this agent is a {agent.class_})")
    if agent.teachability is not None and agent.llm_config is False:
        raise ValueError("teachability needs the agent's model (its analyzer uses it): this agent has llm_config: false")
    return agent


def check_llm_config(value: Any) -> Any:
    if value is False or value is None or isinstance(value, str):
        return value
    # Never the value: an inline llm_config holds keys.
    raise ValueError(f"must be the name of a model under models, or false, got {_kind(value)}")


def check_code_execution_config(value: Any) -> Any:
    if value is False or value is None or isinstance(value, dict):
        return value
    raise ValueError(f"must be a mapping (work_dir, use_docker, ...) or false, got {_kind(value)}")


class GroupChatSpec(_Strict):
    """A ``GroupChat``: its agents by name and the classic options."""

    agents: list[StrictStr] = Field(min_length=1)
    max_round: TurnCount | None = None
    admin_name: StrictStr | None = None
    func_call_filter: StrictBool | None = None
    speaker_selection_method: StrictStr | None = None
    max_retries_for_selecting_speaker: NonNegativeInt | None = None
    allow_repeat_speaker: StrictBool | list[StrictStr] | None = None
    allowed_or_disallowed_speaker_transitions: dict[str, list[StrictStr]] | None = None
    speaker_transitions_type: Literal["allowed", "disallowed"] | None = None
    enable_clear_history: StrictBool | None = None
    send_introductions: StrictBool | None = None
    select_speaker_message_template: StrictStr | None = None
    select_speaker_prompt_template: StrictStr | None = None
    select_speaker_auto_multiple_template: StrictStr | None = None
    select_speaker_auto_none_template: StrictStr | None = None
    select_speaker_auto_verbose: StrictBool | None = None
    role_for_select_speaker_messages: StrictStr | None = None

    @field_validator("speaker_selection_method")
    @classmethod
    def _method(cls, value: str | None) -> str | None:
        return check_speaker_method(value)

    @field_validator("select_speaker_message_template", "select_speaker_prompt_template",
                     "select_speaker_auto_multiple_template", "select_speaker_auto_none_template")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        return None if value is None else check_template(value)

    @field_validator("admin_name")
    @classmethod
    def _admin(cls, value: str | None) -> str | None:
        return check_admin_name(value)

    @model_validator(mode="after")
    def _transitions(self) -> GroupChatSpec:
        return check_transitions_pair(self)


def check_speaker_method(value: str | None) -> str | None:
    if value is None or value in SPEAKER_METHODS or IMPORT_PATH.match(value):
        return value
    raise ValueError(f"must be one of {', '.join(SPEAKER_METHODS)} or an import path 'module:function', "
                     f"got {ascii(value)[:60]}")


def check_admin_name(value: str | None) -> str | None:
    check_name("admin", value)
    return value


def check_transitions_pair(group: GroupChatSpec) -> GroupChatSpec:
    if (group.allowed_or_disallowed_speaker_transitions is None) != (group.speaker_transitions_type is None):
        raise ValueError("allowed_or_disallowed_speaker_transitions and speaker_transitions_type go together: "
                         "give both or neither")
    return group


class ToolSpec(_Strict):
    """A function tool: proposed by ``caller``'s model, executed by ``executor``."""

    function: StrictStr
    caller: StrictStr
    executor: StrictStr
    name: StrictStr | None = None
    description: StrictStr | None = None

    @field_validator("function")
    @classmethod
    def _path(cls, value: str) -> str:
        return check_import_path(value)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return check_tool_name(value)


def check_tool_name(value: str | None) -> str | None:
    check_name("tool", value)
    return value


class QueuedChatSpec(_Strict):
    """One chat of a sequential queue started by the run's initiator (or ``sender``)."""

    recipient: StrictStr
    sender: StrictStr | None = None
    message: StrictStr | None = None
    chat_id: StrictStr | StrictInt | None = None
    prerequisites: list[StrictStr | StrictInt] | None = None
    summary_method: Literal["last_msg", "reflection_with_llm"] | None = None
    summary_args: dict[str, StrictStr] | None = None
    max_turns: TurnCount | None = None
    carryover: StrictStr | list[StrictStr] | None = None
    clear_history: StrictBool | None = None


class RunSpec(_Strict):
    """How a run starts: ``initiator.initiate_chat(recipient, message=...)`` or, with ``chats``,
    the initiator's sequential chats. ``message`` is a template in which ``{task}`` is the task
    given at run time (else ``task``)."""

    initiator: StrictStr
    recipient: StrictStr | None = None
    message: StrictStr | None = None
    task: StrictStr | None = None
    max_turns: TurnCount | None = None
    summary_method: Literal["last_msg", "reflection_with_llm"] | None = None
    summary_args: dict[str, StrictStr] | None = None
    clear_history: StrictBool | None = None
    chats: list[QueuedChatSpec] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> RunSpec:
        return check_run_kind(self)


def check_run_kind(run: RunSpec) -> RunSpec:
    """One chat (``recipient``) or a queue of them (``chats``), exactly one of the two."""
    if (run.recipient is None) == (run.chats is None):
        raise ValueError("give either recipient (one chat) or chats (sequential chats), not both or neither")
    if run.chats is not None and not run.chats:
        raise ValueError("chats must list at least one chat")
    return run


class TeamSpec(_Strict):
    """A whole team: the document ``parley.spec.Team`` loads and dumps."""

    version: Literal[1]
    name: StrictStr | None = None
    description: StrictStr | None = None
    models: dict[str, ModelSpec] | None = None
    tools: dict[str, ToolSpec] | None = None
    agents: dict[str, AgentSpec] = Field(min_length=1)
    group_chats: dict[str, GroupChatSpec] | None = None
    run: RunSpec

    @field_validator("agents", "models", "tools", "group_chats", mode="before")
    @classmethod
    def _names(cls, value: Any, info: Any) -> Any:
        return check_names_of(info.field_name, value)

    @field_validator("name")
    @classmethod
    def _team_name(cls, value: str | None) -> str | None:
        return check_team_name(value)


def check_names_of(field: str, value: Any) -> Any:
    """The keys of ``agents``, ``models``, ``tools`` or ``group_chats``: names by NAME's rule."""
    kind = {"agents": "agent", "models": "model", "tools": "tool", "group_chats": "group chat"}[field]
    return _check_names(kind, value)


def check_team_name(value: str | None) -> str | None:
    if isinstance(value, str) and not TEAM_NAME.match(value):
        raise ValueError(f"team name {value!a} is not allowed: use {TEAM_NAME_RULE}")
    return value


def dump(spec: TeamSpec) -> dict:
    """The document as plain data: what was written, nothing filled in."""
    return spec.model_dump(mode="json", by_alias=True, exclude_unset=True)


__all__ = [
    "AGENT_CLASSES",
    "SPEC_VERSION",
    "AgentSpec",
    "CodeExecutionSpec",
    "ConfigListReference",
    "EnvReference",
    "GroupChatSpec",
    "ModelEntry",
    "ModelSpec",
    "NestedChatEntry",
    "NestedChatSpec",
    "QueuedChatSpec",
    "RunSpec",
    "TeamSpec",
    "TerminationSpec",
    "ToolSpec",
    "dump",
]
