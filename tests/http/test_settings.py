"""Settings are checked before any request: each problem names the setting to fix."""

from decimal import Decimal

import pytest

from calendly_http import ClientSettings, ConfigError


def test_personal_access_token_with_defaults() -> None:
    settings = ClientSettings.from_config({"token": "pat"})
    assert settings.api_url == "https://api.calendly.com"
    assert settings.oauth_token_url == "https://auth.calendly.com/oauth/token"
    assert not settings.uses_oauth
    assert (settings.max_retries, settings.rate_limit_share) == (8, 0.8)


def test_sandbox_api_url_derives_its_own_token_endpoint() -> None:
    settings = ClientSettings.from_config(
        {
            "api_url": "http://127.0.0.1:5000/",
            "client_id": "id",
            "client_secret": "s",
            "refresh_token": "r",
        }
    )
    assert settings.api_url == "http://127.0.0.1:5000"
    assert settings.oauth_token_url == "http://127.0.0.1:5000/oauth/token"
    assert settings.uses_oauth


@pytest.mark.parametrize(
    ("config", "setting"),
    [
        ({}, "token"),
        ({"client_id": "id", "refresh_token": "r"}, "client_secret"),
        ({"client_id": "id", "client_secret": "s"}, "refresh_token"),
        ({"token": "t", "api_url": "http://calendly.example.com"}, "api_url"),
        ({"token": "t", "api_url": "ftp://127.0.0.1"}, "api_url"),
        ({"token": "t", "oauth_token_url": "http://10.0.0.5/oauth/token"}, "oauth_token_url"),
        ({"token": "t", "max_retries": "many"}, "max_retries"),
        ({"token": "t", "max_retries": 2.5}, "max_retries"),
        ({"token": "t", "request_timeout": 0}, "request_timeout"),
        ({"token": "t", "rate_limit_share": 1.5}, "rate_limit_share"),
        ({"token": 123}, "token"),
        ({"token": "t", "organization": "abc"}, "organization"),
    ],
)
def test_bad_settings_name_the_setting(config: dict, setting: str) -> None:
    with pytest.raises(ConfigError) as caught:
        ClientSettings.from_config(config)
    assert caught.value.setting == setting
    assert f"`{setting}`" in str(caught.value)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "127.8.9.10", "[::1]"])
def test_plain_http_is_allowed_to_loopback_only(host: str) -> None:
    assert ClientSettings.from_config({"token": "t", "api_url": f"http://{host}:1"}).token == "t"


def test_secrets_are_listed_for_redaction() -> None:
    settings = ClientSettings.from_config(
        {"client_id": "id", "client_secret": "shh", "refresh_token": "rt"}
    )
    assert set(settings.secrets) == {"shh", "rt"}


def test_fractional_settings_from_a_config_file_are_accepted() -> None:
    # singer-sdk parses config files with parse_float=Decimal
    settings = ClientSettings.from_config(
        {"token": "t", "retry_initial_wait": Decimal("0.01"), "request_timeout": Decimal("1.5")}
    )
    assert (settings.retry_initial_wait, settings.request_timeout) == (0.01, 1.5)
