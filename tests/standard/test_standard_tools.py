"""LangChain's standard tool suites (langchain-tests) on the tools of skillstack.agents.tools.

search_knowledge runs on the demo store; the JSON skill tool (agent-status-json) on its bundled adapter,
capped short. No skips: the suites' one optional check (init from the environment) needs no keys here.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.tools import BaseTool
from langchain_tests.integration_tests import ToolsIntegrationTests
from langchain_tests.unit_tests import ToolsUnitTests

from standard_parts import store_settings

pytestmark = pytest.mark.slow


def _tool(name: str) -> BaseTool:
    from skillstack.agents.tools import build_tools

    return next(tool for tool in build_tools(store_settings(), max_tokens=96) if tool.name == name)


class SearchKnowledge:
    """The subject of both search_knowledge suites (one standard base class per test class)."""

    @property
    def tool_constructor(self) -> BaseTool:
        return _tool("search_knowledge")

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"query": "How much deposit may a landlord ask for?", "k": 2}


class TestSearchKnowledgeUnit(SearchKnowledge, ToolsUnitTests):
    pass


class TestSearchKnowledgeIntegration(SearchKnowledge, ToolsIntegrationTests):
    pass


class JsonSkillTool:
    """The subject of both agent-status-json tool suites."""

    @property
    def tool_constructor(self) -> BaseTool:
        return _tool("agent-status-json")

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"task": "Report status: the nightly backup finished, 2 of 40 files were skipped."}


class TestJsonSkillToolUnit(JsonSkillTool, ToolsUnitTests):
    pass


class TestJsonSkillToolIntegration(JsonSkillTool, ToolsIntegrationTests):
    pass
