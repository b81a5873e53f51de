"""The legal reasoning domain, the hybrid route's flow for skills of kind "reasoning".

citations.py reads references and quotes, gate.py judges an analysis against the retrieved chunks,
prompts.py holds the IRAC prompt, and flow.py the flow's steps, nodes and subgraph (registered with
skillstack.agents.flows.register_flow, as a plugin's domain would be).
"""
