"""The tap does not declare the `batch` capability (a batch file holds rows that a STATE message
written meanwhile would already count as done; see TapCalendly.capabilities), so `batch_config`
is refused like any setting the tap does not know, instead of silently switching to BATCH files."""

from __future__ import annotations

import pytest
from singer_sdk.exceptions import ConfigValidationError

from calendly_sandbox import Sandbox
from tests.tap.conftest import run_in_process, tap_config


def test_batch_config_is_refused_before_any_request(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    batch_config = {
        "encoding": {"format": "jsonl", "compression": "gzip"},
        "storage": {"root": tmp_path_factory.mktemp("batches").as_uri(), "prefix": "calendly-"},
    }
    with Sandbox(seed=4, events=15) as sandbox:
        with pytest.raises(ConfigValidationError) as caught:
            run_in_process(tap_config(sandbox, batch_config=batch_config))
        assert not sandbox.request_log

    assert caught.value.errors == [
        "Setting `batch_config` is not a setting of tap-calendly: "
        "see `tap-calendly --about` for its settings"
    ]
