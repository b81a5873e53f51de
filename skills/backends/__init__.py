"""Skill backends: where a skill's tokens come from (local PEFT adapters, OpenAI, OpenAI-compatible servers)."""
