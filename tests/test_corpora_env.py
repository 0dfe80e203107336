"""The corpus tests find the shared corpora through WATCHLIST_CORPORA, else ../shared/corpora."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REPO, corpora_dir


def test_env_var_names_the_corpora(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """WATCHLIST_CORPORA wins; without it the folder beside the repo is used."""
    monkeypatch.setenv("WATCHLIST_CORPORA", str(tmp_path))
    assert corpora_dir() == tmp_path.resolve()
    monkeypatch.delenv("WATCHLIST_CORPORA")
    assert corpora_dir() == REPO.parent / "shared" / "corpora"
