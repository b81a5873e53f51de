"""One error hierarchy for skillstack; every message says what went wrong and what to do next.

The CLI turns any SkillstackError into one line on stderr and exit code 2.
"""

from __future__ import annotations


class SkillstackError(Exception):
    """Base class: a problem the user can fix. The message names the file, line or field."""

    exit_code = 2


class ConfigError(SkillstackError):
    """A setting is missing, mistyped or contradictory (config.toml, environment or flag)."""


class InputError(SkillstackError):
    """Bad input from the user: an empty query, -k 0, an unreadable --input file."""


class DocumentError(SkillstackError):
    """A document could not be loaded (corrupt, encrypted, empty, undecodable)."""


class StoreError(SkillstackError):
    """The knowledge store is missing, locked by another process, or inconsistent."""


class SkillError(SkillstackError):
    """A skill folder is broken, hostile, unknown or incompatible with the base model."""


class OutputValidationError(SkillstackError):
    """A model's output failed its JSON Schema after the allowed retries."""


class DatasetError(SkillstackError):
    """A training dataset cannot be used (see `skillstack data validate` for every finding)."""


class TrainingError(SkillstackError):
    """A training run cannot start or continue."""


class RequestCancelled(SkillstackError):
    """The caller withdrew a request (its `cancel` event was set) before its answer was ready."""


class BackendError(SkillstackError):
    """A remote model backend (OpenAI or OpenAI-compatible) failed or refused the request."""
