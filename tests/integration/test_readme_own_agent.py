"""The README's "Use skillstack inside your own agent" examples, run as written on the demo store and the local model."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SECTION = "## Use skillstack inside your own agent"


def readme_examples() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from skillstack.retrieval.ingest import ingest_paths
    from skillstack.settings import load_settings

    home = tmp_path_factory.mktemp("readme-home")
    ingest_paths(load_settings(home), [REPO / "demo" / "docs"], progress=False)
    return home


def test_the_section_has_the_create_agent_and_the_state_graph_examples() -> None:
    examples = readme_examples()
    assert len(examples) == 2
    assert "create_agent(" in examples[0] and "StateGraph(MessagesState)" in examples[1]


@pytest.mark.parametrize("index", [pytest.param(0, id="create_agent"), pytest.param(1, id="state_graph")])
def test_the_readme_example_runs_as_written(index, demo_home, monkeypatch, capsys) -> None:
    monkeypatch.setenv("SKILLSTACK_HOME", str(demo_home))
    names: dict = {}
    exec(compile(readme_examples()[index], f"README example {index + 1}", "exec"), names)
    assert capsys.readouterr().out.strip()
    if "agent" in names:  # the create_agent loop is bounded: at most one tool call, then an answer in words
        messages = names["result"]["messages"]
        assert sum(message.type == "tool" for message in messages) <= 1
        assert messages[-1].type == "ai" and not messages[-1].tool_calls
