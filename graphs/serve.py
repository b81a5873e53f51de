"""The compiled meta-agent graph for langgraph.json: `langgraph dev` / the LangGraph server / Studio load `graph`.

Settings come from $SKILLSTACK_HOME as for the CLI. No checkpointer here: the LangGraph server
supplies its own persistence (and so clarifying questions become resumable interrupts there).
"""

from __future__ import annotations

from skillstack.graphs.graph import compile_graph
from skillstack.settings import load_settings

graph = compile_graph(load_settings())
