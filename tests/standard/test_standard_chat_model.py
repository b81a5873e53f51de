"""LangChain's standard chat-model suites (langchain-tests) on the local base model, tool calling on.

Generations are capped short: the suites prove the LangChain contract (messages, streaming, usage,
tool calls, structured output, callbacks), not the prose. The suites' own skips, each a feature
this model genuinely lacks:
- image, audio, video, PDF inputs and image/PDF tool messages, Anthropic-format inputs: SmolLM2 reads text only;
- model override per call (`invoke(..., model=...)`): one SkillChatModel is one skill on one base model,
  chosen by skill name when the model is built;
- VCR-recorded timing (test_stream_time): there is no HTTP traffic to record, generation is local;
- serialisation (test_serdes): the model holds a live engine, so it is not lc-serializable;
- init from environment (test_init_from_env): the local model takes no key or endpoint from the environment.
One expected failure, a choice the 135M base model makes badly rather than a missing feature: in
test_agent_loop (tool_choice "auto") it answers in words instead of calling the weather tool. The
mechanism is proven where the suite forces a tool (test_tool_calling, test_tool_choice...) and in
tests/integration/test_tool_calling.py; a larger base_model is the cure.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_tests.integration_tests import ChatModelIntegrationTests
from langchain_tests.unit_tests import ChatModelUnitTests

from skillstack.skills.chat_model import SkillChatModel

from standard_parts import base_model_params

pytestmark = pytest.mark.slow
MAX_TOKENS = 32


class TestSkillChatModelUnit(ChatModelUnitTests):
    @property
    def chat_model_class(self) -> type[SkillChatModel]:
        return SkillChatModel

    @property
    def standard_chat_model_params(self) -> dict[str, Any]:
        # The unit suite adds api_key="test" for hosted providers; a local model has no key, and refuses
        # arguments it would ignore (test_an_unknown_constructor_argument_is_refused).
        params = super().standard_chat_model_params
        params.pop("api_key")
        return params

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return base_model_params()


class TestSkillChatModelIntegration(ChatModelIntegrationTests):
    @property
    def chat_model_class(self) -> type[SkillChatModel]:
        return SkillChatModel

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return base_model_params(max_tokens=MAX_TOKENS)

    @property
    def supports_json_mode(self) -> bool:
        return True  # json_mode decodes under the schema too

    @pytest.mark.xfail(reason="the 135M base model answers in words when free to choose a tool (tool_choice auto)",
                       strict=False)
    def test_agent_loop(self, model: SkillChatModel) -> None:
        super().test_agent_loop(model)
