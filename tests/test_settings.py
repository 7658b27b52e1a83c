"""Settings: config.toml, then environment and secrets; the token never from the file, never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("PARTNER_"):
            monkeypatch.delenv(name)


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_values_come_from_the_config_file(tmp_path: Path) -> None:
    path = _config(tmp_path, 'database_url = "sqlite:///x.db"\n[guild_defaults]\nlow_empathy_threshold = 2\n')
    settings = load_settings(path, secrets_dir=tmp_path / "none")
    assert settings.resolved_database_url == "sqlite:///x.db"
    assert settings.guild_defaults.low_empathy_threshold == 2
    assert settings.guild_defaults.dm_daily_cap == 3


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _config(tmp_path, 'database_url = "sqlite:///x.db"\n[guild_defaults]\nlow_empathy_threshold = 2\n')
    monkeypatch.setenv("PARTNER_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/partner")
    monkeypatch.setenv("PARTNER_GUILD_DEFAULTS__LOW_EMPATHY_THRESHOLD", "0")
    settings = load_settings(path, secrets_dir=tmp_path / "none")
    assert settings.resolved_database_url == "postgresql+psycopg://postgres@127.0.0.1:5432/partner"
    assert settings.guild_defaults.low_empathy_threshold == 0


def test_without_a_database_url_the_embedded_sqlite_file_is_used(tmp_path: Path) -> None:
    path = _config(tmp_path, f'data_dir = "{tmp_path}"\n')
    settings = load_settings(path, secrets_dir=tmp_path / "none")
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'partner-bot.db'}"


def test_a_bad_database_url_names_the_key_and_the_expected_form(tmp_path: Path) -> None:
    path = _config(tmp_path, 'database_url = "mysql://root@localhost/x"\n')
    with pytest.raises(SettingsError) as info:
        load_settings(path, secrets_dir=tmp_path / "none")
    message = str(info.value)
    assert "PARTNER_DATABASE_URL" in message
    assert "postgresql://" in message and "sqlite:///" in message


def test_a_bad_nested_value_names_its_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTNER_GUILD_DEFAULTS__LOW_EMPATHY_THRESHOLD", "9")
    with pytest.raises(SettingsError, match="PARTNER_GUILD_DEFAULTS__LOW_EMPATHY_THRESHOLD"):
        load_settings(_config(tmp_path, ""), secrets_dir=tmp_path / "none")


def test_an_unknown_time_zone_is_refused(tmp_path: Path) -> None:
    path = _config(tmp_path, '[guild_defaults]\ntime_zone = "Mars/Olympus"\n')
    with pytest.raises(SettingsError, match="IANA time zone"):
        load_settings(path, secrets_dir=tmp_path / "none")


def test_an_unknown_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="databse_url"):
        load_settings(_config(tmp_path, 'databse_url = "sqlite:///x.db"\n'), secrets_dir=tmp_path / "none")


def test_the_token_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTNER_DISCORD_TOKEN", "env-token-123")
    settings = load_settings(_config(tmp_path, ""), secrets_dir=tmp_path / "none")
    assert settings.discord_token is not None
    assert settings.discord_token.get_secret_value() == "env-token-123"


def test_the_token_comes_from_a_secrets_directory(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "partner_discord_token").write_text("file-token-456")
    settings = load_settings(_config(tmp_path, ""), secrets_dir=secrets)
    assert settings.discord_token is not None
    assert settings.discord_token.get_secret_value() == "file-token-456"


def test_a_token_in_the_config_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="PARTNER_DISCORD_TOKEN"):
        load_settings(_config(tmp_path, 'discord_token = "leaked"\n'), secrets_dir=tmp_path / "none")


def test_the_token_is_never_shown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTNER_DISCORD_TOKEN", "very-secret-token")
    settings = load_settings(_config(tmp_path, ""), secrets_dir=tmp_path / "none")
    for text in (repr(settings), str(settings), settings.model_dump_json()):
        assert "very-secret-token" not in text


def test_invalid_toml_is_reported_with_its_path(tmp_path: Path) -> None:
    path = _config(tmp_path, "database_url = \n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(path, secrets_dir=tmp_path / "none")


def test_the_shipped_config_file_loads(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from bot.settings import DEFAULT_CONFIG

    settings = load_settings(DEFAULT_CONFIG, secrets_dir=tmp_path / "none")
    assert settings.guild_defaults.low_empathy_threshold == 1
    assert settings.guild_defaults.training_opt_in is False
