"""The deciding parts of the meta-agent: router, graph state, and the legal reasoning domain (lawyer/)."""
