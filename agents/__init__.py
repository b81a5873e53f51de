"""The deciding parts of the meta-agent: router, legal reasoning flow, graph state and prompts."""
