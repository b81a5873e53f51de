"""The deciding parts of the meta-agent: routers and reasoning flows (both registries), the graph state,
and one folder per reasoning domain (lawyer/)."""
