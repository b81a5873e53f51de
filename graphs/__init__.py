"""LangGraph graphs: build_graph(settings) and the compiled graph exported for langgraph.json."""
