"""skillstack's knowledge and skills as LangChain tools, for a user's own agent (create_agent, ToolNode, bind_tools).

`build_tools(settings)` returns, from what is installed now:
- `search_knowledge(query, k, filters)`: the store's best passages, each with its citation;
- one tool per discovered skill, named after it and described by its manifest: text skills return
  the answer, JSON skills the parsed, schema-valid object;
- `analyse_case(facts)`: the hybrid flow of the reasoning skill (the lawyer flow: issues, retrieval,
  IRAC reasoning, citation gate), when a reasoning skill is installed.
A skill folder added or removed shows up at the next build. Models, the store and the graph behind
`analyse_case` are opened on first call. Not here: how any of them works (retrieval/, skills/, graphs/).
"""

from __future__ import annotations

import functools
from typing import Any

from pydantic import BaseModel, Field

from skillstack.settings import Settings

SEARCH_K = 5


class SearchKnowledgeInput(BaseModel):
    query: str = Field(description="What to look up in the documents.")
    k: int = Field(default=SEARCH_K, ge=1, description="How many passages to return.")
    filters: dict[str, Any] | None = Field(default=None, description="Chroma-style metadata filter, e.g. "
                                                                     '{"article": "33"} or {"source": {"$in": [...]}}.')


class SkillInput(BaseModel):
    task: str = Field(description="The request for the skill, in plain words.")


class AnalyseCaseInput(BaseModel):
    facts: str = Field(description="The facts of the case to analyse.")


def search_knowledge_tool(settings: Settings) -> Any:
    """The store's search as a tool returning passages: {"text", "citation": {source, article, title}, "score"}."""
    from langchain_core.tools import StructuredTool

    retriever = functools.cache(lambda: _retriever(settings))

    def search_knowledge(query: str, k: int = SEARCH_K, filters: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return [{"text": hit.text, "citation": hit.citation, "score": round(hit.score, 4)}
                for hit in retriever().search(query, k, where=filters)]

    return StructuredTool.from_function(
        search_knowledge, name="search_knowledge", args_schema=SearchKnowledgeInput,
        description="Search the knowledge store (ingested documents) and return the best passages with their "
                    "citations (source file, article, title). Use it for facts the documents state.")


def _retriever(settings: Settings) -> Any:
    from skillstack.retrieval.retriever import Retriever

    return Retriever(settings)


def skill_tool(settings: Settings, skill: Any, *, max_tokens: int | None = None) -> Any:
    """One discovered skill as a tool: the answer text, or for a JSON skill the parsed object."""
    from langchain_core.messages import HumanMessage
    from langchain_core.tools import StructuredTool

    from skillstack.skills.runtime import chat_model

    def run(task: str) -> Any:
        message = chat_model(settings, skill.name, max_tokens=max_tokens).invoke([HumanMessage(task)])
        parsed = message.response_metadata.get("parsed")
        return parsed if skill.schema is not None else str(message.content)

    manifest = skill.manifest
    returns = "a JSON object valid under the skill's schema" if skill.schema is not None else "the skill's answer"
    description = f"{manifest.description.strip() or f'The {skill.name} skill.'} Returns {returns}."
    return StructuredTool.from_function(run, name=skill.name, description=description, args_schema=SkillInput)


def analyse_case_tool(settings: Settings, skills: dict[str, Any], *, max_tokens: int | None = None) -> Any:
    """The hybrid flow as a tool: {"answer", "citations", "sources", "verified"} for the facts given."""
    from langchain_core.tools import StructuredTool

    @functools.cache
    def graph() -> Any:
        from skillstack.graphs.graph import compile_graph

        return compile_graph(settings, skills=skills, max_tokens=max_tokens)

    def analyse_case(facts: str) -> dict[str, Any]:
        state = graph().invoke({"task": facts}, context={"route": "hybrid"})
        return {"answer": state.get("answer") or "", "citations": list(state.get("citations") or []),
                "sources": list(state.get("sources") or []), "verified": state.get("verified")}

    return StructuredTool.from_function(
        analyse_case, name="analyse_case", args_schema=AnalyseCaseInput,
        description="Analyse the facts of a legal case: research the law in the knowledge store, reason in IRAC "
                    "form and check every cited article against what was retrieved. Returns the analysis with "
                    "its citations and whether they were verified.")


def build_tools(settings: Settings, *, max_tokens: int | None = None) -> list[Any]:
    """search_knowledge, one tool per skill discovered now, and analyse_case when a skill reasons."""
    from skillstack.agents.router import reasoning_skill
    from skillstack.skills.registry import discover_skills

    skills = discover_skills(settings).skills
    tools = [search_knowledge_tool(settings)]
    tools += [skill_tool(settings, skills[name], max_tokens=max_tokens) for name in sorted(skills)]
    if reasoning_skill(skills):
        tools.append(analyse_case_tool(settings, skills, max_tokens=max_tokens))
    return tools
