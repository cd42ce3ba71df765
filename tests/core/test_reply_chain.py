"""register_reply, triggers, hooks, custom model clients, nested and sequential chats."""

from __future__ import annotations

import types

import pytest

import parley
from parley import AssistantAgent, ConversableAgent, UserProxyAgent, initiate_chats
from tests.conftest import scripted_config


def never_user(name="user", **kwargs):
    return UserProxyAgent(name, human_input_mode="NEVER", code_execution_config=False, **kwargs)


def test_registered_reply_runs_before_builtins_and_can_pass():
    bot = ConversableAgent("bot", llm_config=scripted_config(["from model"]), human_input_mode="NEVER")
    seen = []

    def passing(recipient, messages=None, sender=None, config=None):
        seen.append(("pass", config))
        return False, None

    def shouting(recipient, messages=None, sender=None, config=None):
        return True, messages[-1]["content"].upper()

    bot.register_reply([parley.Agent, None], passing, config="cfg")
    assert bot.generate_reply(messages=[{"role": "user", "content": "hi"}]) == "from model"
    bot.register_reply(parley.Agent, shouting, position=0)
    user = never_user()
    assert bot.generate_reply(messages=[{"role": "user", "content": "hi"}], sender=user) == "HI"
    # trigger [Agent] does not match sender=None: falls through to the model
    assert bot.generate_reply(messages=[{"role": "user", "content": "hi"}]) == "from model"
    assert seen[0] == ("pass", "cfg")


def test_triggers_by_name_instance_and_callable():
    bot = ConversableAgent("bot", llm_config=False, human_input_mode="NEVER", default_auto_reply="default")
    alice, bob = never_user("alice"), never_user("bob")
    bot.register_reply("alice", lambda r, messages=None, sender=None, config=None: (True, "hi alice"))
    bot.register_reply(bob, lambda r, messages=None, sender=None, config=None: (True, "hi bob"))
    bot.register_reply(lambda s: s is not None and s.name == "carol", lambda r, messages=None, sender=None, config=None: (True, "hi carol"))
    msgs = [{"role": "user", "content": "x"}]
    assert bot.generate_reply(msgs, alice) == "hi alice"
    assert bot.generate_reply(msgs, bob) == "hi bob"
    assert bot.generate_reply(msgs, never_user("carol")) == "hi carol"
    assert bot.generate_reply(msgs, never_user("dave")) == "default"


async def test_async_reply_function_in_sync_and_async_chats():
    bot = ConversableAgent("bot", llm_config=False, human_input_mode="NEVER", max_consecutive_auto_reply=1)

    async def async_reply(recipient, messages=None, sender=None, config=None):
        return True, "async reply TERMINATE"

    bot.register_reply(parley.Agent, async_reply)
    user = never_user(is_termination_msg=lambda m: "TERMINATE" in m["content"])
    result = await user.a_initiate_chat(bot, message="x")
    assert result.chat_history[-1]["content"] == "async reply TERMINATE"


def test_exclude_by_classic_sync_name():
    bot = ConversableAgent("bot", llm_config=scripted_config(["model"]), human_input_mode="NEVER", default_auto_reply="fallback")
    msgs = [{"role": "user", "content": "x"}]
    assert bot.generate_reply(msgs, exclude=[ConversableAgent.generate_oai_reply]) == "fallback"


def test_hooks_modify_last_message_all_messages_and_outgoing():
    seen = []

    def model(request):
        seen.append([m["content"] for m in request.messages[1:]])
        return "reply TERMINATE"

    assistant = AssistantAgent("assistant", llm_config=scripted_config(model))
    assistant.register_hook("process_last_received_message", lambda text: text + " [hooked]")
    assistant.register_hook("process_all_messages_before_reply", lambda msgs: [{"role": "user", "content": "first"}] + msgs)
    user = never_user()
    user.register_hook("process_message_before_send", lambda sender, message, recipient, silent: message + "!" if isinstance(message, str) else message)
    user.initiate_chat(assistant, message="hello")
    assert seen[0] == ["first", "hello! [hooked]"]
    # the stored history keeps what was actually received
    assert assistant.chat_messages[user][0]["content"] == "hello!"
    with pytest.raises(ValueError, match="hookable"):
        assistant.register_hook("nope", lambda x: x)


class EchoClient:
    """A classic custom model client (the model_client_cls protocol)."""

    def __init__(self, config, **kwargs):
        self.model = config["model"]
        self.greeting = kwargs.get("greeting", "echo")

    def create(self, params):
        text = f"{self.greeting}: {params['messages'][-1]['content']} TERMINATE"
        message = types.SimpleNamespace(content=text, tool_calls=None, function_call=None)
        return types.SimpleNamespace(choices=[types.SimpleNamespace(message=message)], model=self.model,
                                     usage=types.SimpleNamespace(prompt_tokens=5, completion_tokens=3))

    def message_retrieval(self, response):
        return [c.message.content for c in response.choices]

    def cost(self, response):
        return 0.01

    @staticmethod
    def get_usage(response):
        return {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8, "cost": 0.01, "model": response.model}


def test_custom_model_client_class():
    assistant = AssistantAgent("assistant", llm_config={"config_list": [{"model": "echo-1", "model_client_cls": "EchoClient"}]})
    user = never_user(is_termination_msg=lambda m: "TERMINATE" in m["content"])
    with pytest.raises(RuntimeError, match="register_model_client"):
        user.initiate_chat(assistant, message="too early")
    assistant.register_model_client(model_client_cls=EchoClient, greeting="hey")
    result = user.initiate_chat(assistant, message="ping")
    assert result.chat_history[-1]["content"] == "hey: ping TERMINATE"
    usage = result.cost["usage_including_cached_inference"]
    assert usage["echo-1"]["total_tokens"] == 8 and usage["total_cost"] == pytest.approx(0.01)


def test_sequential_chats_carry_summaries_over():
    seen = []

    def model(request):
        seen.append(request.messages[-1]["content"])
        return f"result {len(seen)} TERMINATE"

    a1 = AssistantAgent("a1", llm_config=scripted_config(model))
    a2 = AssistantAgent("a2", llm_config=scripted_config(model))
    user = never_user(is_termination_msg=lambda m: "TERMINATE" in m["content"])
    results = user.initiate_chats([
        {"recipient": a1, "message": "step one", "summary_method": "last_msg"},
        {"recipient": a2, "message": "step two", "carryover": "extra context"},
    ])
    assert [r.summary for r in results] == ["result 1", "result 2"]
    assert seen[1] == "step two\nContext: \nextra context\nresult 1"
    results = initiate_chats([{"sender": user, "recipient": a1, "message": "alone"}])
    assert len(results) == 1


def test_nested_chat_replies_with_inner_summary():
    inner = AssistantAgent("inner", llm_config=scripted_config(["inner verdict TERMINATE"]))
    outer = AssistantAgent("outer", llm_config=scripted_config(["should not be used"]))
    outer.register_nested_chats([{"recipient": inner, "max_turns": 1, "summary_method": "last_msg"}], trigger=UserProxyAgent)
    user = never_user(max_consecutive_auto_reply=0)
    result = user.initiate_chat(outer, message="judge this")
    assert result.chat_history[-1]["content"] == "inner verdict"
    assert inner.chat_messages[outer][0]["content"] == "judge this"


def test_send_and_receive_directly():
    assistant = AssistantAgent("assistant", llm_config=scripted_config(["pong TERMINATE"]))
    user = never_user()
    user.send("no reply requested", assistant, request_reply=False)
    assert assistant.chat_messages[user][-1]["content"] == "no reply requested"
    assert len(user.chat_messages[assistant]) == 1
    user.send("ping", assistant, request_reply=True)
    assert user.chat_messages[assistant][-1]["content"] == "pong TERMINATE"
    assistant.receive("direct", user, request_reply=False)
    assert assistant.last_message(user)["content"] == "direct"


def test_sync_reply_function_may_start_a_chat_inside_a_chat():
    """Classic pattern: a sync reply function runs its own initiate_chat (nested sync call)."""
    helper = AssistantAgent("helper", llm_config=scripted_config(["helped TERMINATE"]))
    boss = ConversableAgent("boss", llm_config=False, human_input_mode="NEVER")

    def ask_helper(recipient, messages=None, sender=None, config=None):
        inner = never_user("inner", is_termination_msg=lambda m: "TERMINATE" in m["content"])
        result = inner.initiate_chat(helper, message=messages[-1]["content"])
        return True, f"helper said: {result.summary}"

    boss.register_reply(parley.Agent, ask_helper)
    user = never_user(max_consecutive_auto_reply=0)
    result = user.initiate_chat(boss, message="please help")
    assert result.chat_history[-1]["content"] == "helper said: helped"


def test_last_message_hook_runs_before_the_all_messages_hook():
    # Classic order: a transform of the whole history sees the last message already edited.
    seen = []
    assistant = ConversableAgent("assistant", llm_config=False, human_input_mode="NEVER")
    assistant.register_hook("process_last_received_message", lambda text: text + " [edited]")
    assistant.register_hook("process_all_messages_before_reply", lambda msgs: seen.append([m["content"] for m in msgs]) or msgs)
    assistant.generate_reply(messages=[{"role": "user", "content": "hello"}])
    assert seen == [["hello [edited]"]]


def test_callable_message_is_sent_as_returned_with_the_carryover_in_its_context():
    seen = {}

    def opening(sender, recipient, context):
        seen["carryover"] = context.get("carryover")
        return "built from " + context["carryover"]

    assistant = AssistantAgent("assistant", llm_config=scripted_config(["ok"]))
    result = never_user(max_consecutive_auto_reply=0).initiate_chat(assistant, message=opening, carryover="earlier result")
    assert seen["carryover"] == "earlier result"
    assert result.chat_history[0]["content"] == "built from earlier result"  # no "Context:" appended again
