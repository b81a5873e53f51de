"""The legal reasoning domain of the hybrid route: citations, the citation gate, the IRAC prompt, the flow's steps.

Each module is pure (no models, no store): graphs/graph.py wires them into the hybrid subgraph
around the retriever and the legal-reasoner skill.
"""
