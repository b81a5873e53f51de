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


@pytest.mark.parametrize("index", [
    pytest.param(0, id="create_agent", marks=pytest.mark.skip(
        reason="unfinished: ran over 15 minutes on 2 shared cores without ending; the 135M model under "
               "tool_choice auto may keep calling tools until create_agent's recursion limit")),
    pytest.param(1, id="state_graph")])
def test_the_readme_example_runs_as_written(index, demo_home, monkeypatch, capsys) -> None:
    monkeypatch.setenv("SKILLSTACK_HOME", str(demo_home))
    exec(compile(readme_examples()[index], f"README example {index + 1}", "exec"), {})
    assert capsys.readouterr().out.strip()
