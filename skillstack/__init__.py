"""skillstack: knowledge (RAG over Chroma) and behaviour (LoRA skills) for LangGraph agents.

This top package holds what every part shares: settings, errors, the embedded
default models and the command line. The parts live in sibling folders mapped
into this namespace: skillstack.retrieval, .skills, .training, .agents, .graphs.
"""

__version__ = "0.1.0"
