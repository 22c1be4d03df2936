from __future__ import annotations

from pathlib import Path

import pytest

from agent.config import ConfigError, load


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scribe.toml"
    path.write_text(text)
    return path


def test_empty_file_gives_the_spec_defaults(tmp_path: Path) -> None:
    config = load(write(tmp_path, ""), environ={})
    assert config.agent.model == "gpt-4.1-mini" and config.agent.max_steps == 30
    assert (config.reviewer.allow_below, config.reviewer.deny_at, config.reviewer.on_error) == (0.3, 0.7, "ask")
    assert config.memory.author == "scribe <scribe@localhost>" and config.memory.max_note_bytes == 65536


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[agent]\nmodel = "file-model"\n[reviewer]\nmodel = "file-reviewer"\n')
    config = load(path, environ={"SCRIBE_MODEL": "env-model", "SCRIBE_REVIEW_MODEL": "env-reviewer"})
    assert (config.agent.model, config.reviewer.model) == ("env-model", "env-reviewer")


def test_openai_base_url_only_fills_an_unset_base_url(tmp_path: Path) -> None:
    unset = write(tmp_path, "")
    assert load(unset, environ={"OPENAI_BASE_URL": "http://o"}).agent.base_url == "http://o"
    assert load(unset, environ={"OPENAI_BASE_URL": "http://o", "SCRIBE_BASE_URL": "http://s"}).agent.base_url == "http://s"
    in_file = write(tmp_path, '[agent]\nbase_url = "http://f"\n')
    assert load(in_file, environ={"OPENAI_BASE_URL": "http://o"}).agent.base_url == "http://f"


def test_integers_are_accepted_for_float_keys_but_not_booleans(tmp_path: Path) -> None:
    assert load(write(tmp_path, "[reviewer]\ntimeout_s = 5\n"), environ={}).reviewer.timeout_s == 5.0
    with pytest.raises(ConfigError, match=r"\[reviewer\].timeout_s must be a float, not true/false"):
        load(write(tmp_path, "[reviewer]\ntimeout_s = true\n"), environ={})
    with pytest.raises(ConfigError, match=r"human_can_override_deny must be a bool"):
        load(write(tmp_path, '[reviewer]\nhuman_can_override_deny = "yes"\n'), environ={})


def test_a_section_that_is_not_a_table_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"agent must be a \[agent\] table"):
        load(write(tmp_path, 'agent = "x"\n'), environ={})
