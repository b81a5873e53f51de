"""Settings merge config.toml < environment < flags, and bad values name their source."""

from pathlib import Path

import pytest

from skillstack.errors import ConfigError
from skillstack.settings import load_settings


def test_flags_beat_environment_beat_config_file(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (home / "config.toml").write_text('collection = "from_toml"\nrouter_threshold = 0.1\nchroma_port = 9000\n')
    monkeypatch.setenv("SKILLSTACK_COLLECTION", "from_env")
    settings = load_settings(home, router_threshold=0.9)
    assert settings.collection == "from_env"
    assert settings.router_threshold == 0.9
    assert settings.chroma_port == 9000


def test_unknown_config_key_warns_and_is_ignored(home: Path) -> None:
    (home / "config.toml").write_text('from_the_future = 1\n')
    with pytest.warns(UserWarning, match="from_the_future"):
        load_settings(home)


def test_mistyped_value_names_field_and_source(home: Path) -> None:
    (home / "config.toml").write_text('chroma_port = "lots"\n')
    with pytest.raises(ConfigError, match=r"config.toml: setting 'chroma_port' must be int"):
        load_settings(home)


def test_broken_toml_is_one_clear_error(home: Path) -> None:
    (home / "config.toml").write_text('collection = \n')
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(home)


def test_short_collection_name_is_refused(home: Path) -> None:
    with pytest.raises(ConfigError, match="3\\+ characters"):
        load_settings(home, collection="ab")


def test_local_batching_is_continuous_by_default_and_an_unknown_mode_is_refused(home: Path) -> None:
    assert load_settings(home).local_batching == "continuous"
    assert load_settings(home, local_batching="gather").local_batching == "gather"
    with pytest.raises(ConfigError, match="'local_batching' must be one of continuous, gather, got 'fast'"):
        load_settings(home, local_batching="fast")
    with pytest.raises(ConfigError, match="'max_batch_rows' must be at least 1"):
        load_settings(home, max_batch_rows=0)


def test_rag_answer_quotes_by_default_and_an_unknown_mode_is_refused(home: Path) -> None:
    assert load_settings(home).rag_answer == "quote"
    assert load_settings(home, rag_answer="generate").rag_answer == "generate"
    with pytest.raises(ConfigError, match="'rag_answer' must be one of quote, generate, got 'llm'"):
        load_settings(home, rag_answer="llm")


def test_skills_dirs_from_environment_split_on_pathsep(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKILLSTACK_SKILLS_DIRS", "/a:/b")
    assert load_settings(home).skills_dirs == (Path("/a"), Path("/b"))


def test_save_setting_writes_one_key_and_keeps_the_others(home: Path) -> None:
    from skillstack.settings import save_setting

    (home / "config.toml").write_text('router_threshold = 0.5\n')
    save_setting(load_settings(home), "embedding_model", home / "embedders" / "x-v1")
    settings = load_settings(home)
    assert settings.embedding_model == str(home / "embedders" / "x-v1") and settings.router_threshold == 0.5
    with pytest.raises(ConfigError, match="unknown setting"):
        save_setting(settings, "no_such_setting", 1)
