"""Reporting settings that decide where the worker may write."""

from __future__ import annotations

import tempfile
from pathlib import Path

from services.reporting.settings import Settings


def test_faust_data_dir_defaults_to_the_temporary_directory_not_the_working_one() -> None:
    settings = Settings(consumer_group="bilan-reporting-x")
    assert settings.faust_data_dir == Path(tempfile.gettempdir()) / "bilan-reporting-x-data"


def test_faust_data_dir_can_be_configured(tmp_path: Path) -> None:
    settings = Settings(worker_data_dir=tmp_path / "faust")
    assert settings.faust_data_dir == tmp_path / "faust"
