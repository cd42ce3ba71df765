"""Every classic module path the issue lists imports, with the names classic code takes from it,
each the same object as parley's own (thin re-exports, one place each)."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import parley

CLASSIC_PATHS = {
    "exception_utils": ["AgentNameConflict", "NoEligibleSpeaker", "SenderRequired", "InvalidCarryOverType",
                        "UndefinedNextAgent", "ModelToolNotSupportedError"],
    "math_utils": ["eval_math_responses", "get_answer", "is_equiv", "last_boxed_only_string", "remove_boxed", "voting_counts"],
    "cache": ["Cache"],
    "cache.cache": ["Cache"],
    "cache.abstract_cache_base": ["AbstractCache"],
    "cache.cache_factory": ["CacheFactory"],
    "cache.disk_cache": ["DiskCache"],
    "cache.in_memory_cache": ["InMemoryCache"],
    "cache.redis_cache": ["RedisCache"],
    "coding": ["CodeBlock", "CodeResult", "CodeExecutor", "CodeExtractor", "CodeExecutorFactory", "MarkdownCodeExtractor",
               "LocalCommandLineCodeExecutor", "DockerCommandLineCodeExecutor", "JupyterCodeExecutor",
               "EmbeddedIPythonCodeExecutor", "FunctionWithRequirements", "with_requirements", "Alias", "ImportFromModule"],
    "coding.base": ["CodeBlock", "CodeResult", "CodeExecutor", "CodeExtractor", "CommandLineCodeResult"],
    "coding.factory": ["CodeExecutorFactory"],
    "coding.jupyter": ["JupyterCodeExecutor", "EmbeddedIPythonCodeExecutor", "IPythonCodeResult"],
    "coding.func_with_reqs": ["FunctionWithRequirements", "with_requirements", "to_stub"],
    "coding.markdown_code_extractor": ["MarkdownCodeExtractor"],
    "coding.local_commandline_code_executor": ["LocalCommandLineCodeExecutor"],
    "coding.docker_commandline_code_executor": ["DockerCommandLineCodeExecutor"],
    "coding.utils": ["prepare_work_dir"],
    "io": ["IOStream", "IOConsole", "IOWebsockets"],
    "io.base": ["IOStream"],
    "io.console": ["IOConsole"],
    "io.websockets": ["IOWebsockets"],
    "graph_utils": ["has_self_loops", "check_graph_validity", "invert_disallowed_to_allowed"],
    "token_count_utils": ["count_token", "get_max_token_limit", "num_tokens_from_functions", "percentile_used", "token_left"],
    "logger": ["FileLogger", "LoggerFactory"],
    "logger.logger_utils": ["get_current_ts", "to_dict"],
    "logger.file_logger": ["FileLogger"],
    "logger.logger_factory": ["LoggerFactory"],
    "logger.sqlite_logger": ["SqliteLogger"],
    "runtime_logging": ["start", "stop", "get_connection"],
    "agentchat.utils": ["gather_usage_summary", "parse_tags_from_content", "consolidate_chat_info"],
    "agentchat.chat": ["initiate_chats", "ChatResult"],
    "agentchat.contrib.capabilities.agent_capability": ["AgentCapability"],
    "agentchat.contrib.capabilities.transform_messages": ["TransformMessages"],
    "agentchat.contrib.capabilities.transforms": ["MessageHistoryLimiter", "MessageTokenLimiter", "TextMessageCompressor"],
    "agentchat.contrib.capabilities.text_compressors": ["TextCompressor", "LLMLingua"],
    "agentchat.contrib.society_of_mind_agent": ["SocietyOfMindAgent"],
    "agentchat.contrib.math_user_proxy_agent": ["MathUserProxyAgent"],
    "agentchat.contrib.text_analyzer_agent": ["TextAnalyzerAgent"],
    "agentchat.contrib.agent_builder": ["AgentBuilder"],
    "agentchat.contrib.img_utils": ["get_pil_image", "get_image_data", "gpt4v_formatter", "llava_formatter",
                                    "pil_to_data_uri", "num_tokens_from_gpt_image"],
    "oai": ["OpenAIWrapper", "ModelClient", "DEFAULT_AZURE_API_VERSION", "config_list_from_json"],
    "oai.client": ["OpenAIWrapper", "OpenAIClient", "ModelClient", "TOOL_ENABLED"],
    "oai.anthropic": ["AnthropicClient"],
    "oai.gemini": ["GeminiClient"],
    "agentchat.contrib.gpt_assistant_agent": ["GPTAssistantAgent"],
    "agentchat.contrib.multimodal_conversable_agent": ["MultimodalConversableAgent", "DEFAULT_LMM_SYS_MSG", "DEFAULT_MODEL"],
    "agentchat.contrib.capabilities.vision_capability": ["VisionCapability", "DEFAULT_DESCRIPTION_PROMPT"],
    "oai.client_utils": ["validate_parameter", "should_hide_tools"],
    "oai.openai_utils": ["DEFAULT_AZURE_API_VERSION", "get_config_list", "config_list_openai_aoai", "config_list_from_models",
                         "config_list_from_dotenv", "config_list_from_json", "filter_config"],
    "code_utils": ["WIN32", "decide_use_docker", "check_can_use_docker_or_throw", "in_docker_container", "is_docker_running",
                   "get_powershell_command", "execute_code", "extract_code", "infer_lang", "content_str", "create_virtual_env",
                   "improve_code", "improve_function"],
    "function_utils": ["get_function_schema", "get_parameters", "get_required_params", "get_default_values",
                       "get_param_annotations", "get_missing_annotations", "get_parameter_json_schema",
                       "get_load_param_if_needed_function", "load_basemodels_if_needed", "serialize_to_str"],
    "_pydantic": ["model_dump", "model_dump_json", "type2schema", "PYDANTIC_V1"],
}


@pytest.mark.parametrize("path", sorted(CLASSIC_PATHS))
def test_classic_module_path_and_names(path):
    module = importlib.import_module(f"parley.{path}")
    for name in CLASSIC_PATHS[path]:
        assert getattr(module, name) is not None, f"parley.{path}.{name}"


def test_re_exports_are_parleys_own_objects():
    from parley.agentchat.utils import gather_usage_summary
    from parley.cache.cache import Cache
    from parley.coding.local_commandline_code_executor import (
        LocalCommandLineCodeExecutor,
    )
    from parley.exception_utils import AgentNameConflict
    from parley.io.base import IOStream
    from parley.oai.openai_utils import config_list_from_json

    assert Cache is parley.Cache and IOStream is parley.IOStream
    assert config_list_from_json is parley.config_list_from_json and gather_usage_summary is parley.gather_usage_summary
    assert LocalCommandLineCodeExecutor is parley.code.LocalCommandLineCodeExecutor
    assert issubclass(AgentNameConflict, parley.errors.ParleyError)


def test_classic_submodules_reachable_as_attributes():
    from parley import agentchat

    assert callable(agentchat.utils.parse_tags_from_content)


def test_import_parley_stays_light_with_the_classic_paths():
    code = ("import sys, parley, parley.exception_utils, parley.coding, parley.io, parley.cache;"
            "print(','.join(m for m in ('tiktoken', 'websockets', 'openai', 'pydantic', 'jupyter_client', 'docker') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
