"""Mutes: a muted match is recorded and shown, never sent, and unmuting resends nothing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from test_faults_driver import T0, article, config, match

from watchlist.cli import main
from watchlist.decide import find_mute, same_story
from watchlist.models import Article, Mute
from watchlist.store.mutes import MuteError
from watchlist.store.sqlite import Store, title_key

CFG = config({"hook": ("json://127.0.0.1:9/",)})


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "state.db")
    yield s
    s.close()


def _mute(**kw: object) -> Mute:
    base: dict[str, object] = {
        "id": 1,
        "rule": "acme",
        "until": T0 + timedelta(hours=1),
        "comment": "noisy",
        "created": T0,
    }
    base.update(kw)
    return Mute(**base)  # type: ignore[arg-type]


def test_find_mute_rule_expiry_and_removal() -> None:
    """A rule mute silences its rule only, until it expires or is removed."""
    a = article(1)
    key = title_key(a.title)
    assert find_mute([_mute()], "acme", a, key, T0) is not None
    assert find_mute([_mute()], "other", a, key, T0) is None
    assert find_mute([_mute()], "acme", a, key, T0 + timedelta(hours=1)) is None
    assert find_mute([_mute(removed=T0)], "acme", a, key, T0) is None


def test_same_story_by_url_and_near_title() -> None:
    """A story mute covers the same URL and a near-identical title, not another story."""
    a = Article(id="x1", title="Acme files for STAR Market IPO today", url="https://e.x/1")
    m = _mute(story=7, story_url="https://e.x/1", story_key="zzz")
    assert same_story(m, a, title_key(a.title))
    m = _mute(story=7, story_key=title_key("Acme files for STAR Market IPO, today!"))
    assert same_story(m, a, title_key(a.title))
    other = Article(id="x2", title="Widget maker hires new chief executive")
    assert not same_story(m, other, title_key(other.title))


def test_muted_match_is_recorded_without_outbox_rows(store: Store) -> None:
    """A match during a mute becomes an alert marked muted, with nothing to send."""
    mute = store.add_mute("acme", T0 + timedelta(hours=2), "maintenance", T0)
    a = article(1)
    result = store.record([a], [match(a)], CFG, T0)
    assert (result.alerts, result.muted, result.outbox) == (1, 1, 0)
    [alert] = store.alerts_page()
    assert alert["muted"] == mute.id
    assert store.outbox_rows() == []
    assert store.muted_counts([mute.id]) == {mute.id: 1}


def test_unmute_sends_new_matches_but_not_old_ones(store: Store) -> None:
    """After unmuting, a new match gets outbox rows; the muted one still has none."""
    mute = store.add_mute("acme", T0 + timedelta(hours=2), "maintenance", T0)
    a1, a2 = article(1), article(2, title="A different Acme headline about gadgets")
    store.record([a1], [match(a1)], CFG, T0)
    assert store.unmute(mute.id, T0 + timedelta(minutes=1))
    assert not store.unmute(mute.id, T0 + timedelta(minutes=1))
    store.record([a2], [match(a2)], CFG, T0 + timedelta(minutes=2))
    rows = store.outbox_rows()
    assert [r.title for r in rows] == [a2.title]
    assert store.mutes(T0 + timedelta(minutes=3)) == []
    assert len(store.mutes(T0, everything=True)) == 1


def test_expired_mute_stops_silencing(store: Store) -> None:
    """A mute past its end lets matches through."""
    store.add_mute("acme", T0 + timedelta(minutes=5), "short", T0)
    a = article(1)
    result = store.record([a], [match(a)], CFG, T0 + timedelta(minutes=6))
    assert (result.muted, result.outbox) == (0, 1)


def test_story_mute_silences_that_story_only(store: Store) -> None:
    """Muting the story of alert N silences its copies for the rule, not other stories."""
    first = article(1, url="https://e.x/story")
    store.record([first], [match(first)], CFG, T0)
    [alert] = store.alerts_page()
    store.add_mute("acme", T0 + timedelta(days=9), "covered", T0, story=alert["id"])
    later = T0 + timedelta(days=4)  # past the store's 48 h story window: a new alert
    again = article(2, source="other", title=first.title + "!", published=later)
    fresh = article(3, title="Acme opens a new plant in Ohio this week", published=later)
    result = store.record([again, fresh], [match(again), match(fresh)], CFG, later)
    assert (result.alerts, result.muted) == (2, 1)
    assert [r.title for r in store.outbox_rows()] == [first.title, fresh.title]


def test_mute_refuses_bad_input(store: Store) -> None:
    """No comment, an end in the past, an unknown alert or another rule's alert: errors."""
    with pytest.raises(MuteError, match="comment"):
        store.add_mute("acme", T0 + timedelta(hours=1), "  ", T0)
    with pytest.raises(MuteError, match="future"):
        store.add_mute("acme", T0, "x", T0)
    with pytest.raises(MuteError, match="no alert #5"):
        store.add_mute("acme", T0 + timedelta(hours=1), "x", T0, story=5)
    a = article(1)
    store.record([a], [match(a, rule="other")], CFG, T0)
    with pytest.raises(MuteError, match="of rule 'other'"):
        store.add_mute("acme", T0 + timedelta(hours=1), "x", T0, story=1)


def _cli_config(tmp_path: Path) -> Path:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "r.yaml").write_text("- name: acme\n  companies: [Acme]\n")
    cfg = tmp_path / "config.yaml"
    cfg.write_text("state: state.db\nrules: rules/\n")
    return cfg


def test_cli_mute_mutes_unmute(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`mute`, `mutes` and `unmute` add, list and end a mute in the state file."""
    cfg = str(_cli_config(tmp_path))
    assert main(["mute", "-c", cfg, "acme", "--for", "2d", "--comment", "earnings week"]) == 0
    assert "#1 rule acme until" in capsys.readouterr().out
    assert main(["mutes", "-c", cfg]) == 0
    out = capsys.readouterr().out
    assert "earnings week" in out and "0 matches silenced" in out
    assert main(["unmute", "-c", cfg, "1"]) == 0
    assert "not resent" in capsys.readouterr().out
    assert main(["mutes", "-c", cfg]) == 0
    assert "no mutes in force" in capsys.readouterr().out
    assert main(["unmute", "-c", cfg, "1"]) == 1


def test_cli_mute_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown rule (with a hint), a missing comment or a bad duration exit 2."""
    cfg = str(_cli_config(tmp_path))
    assert main(["mute", "-c", cfg, "acme"]) == 2
    assert "--comment TEXT is required" in capsys.readouterr().err
    assert main(["mute", "-c", cfg, "acme", "--comment", "x", "--for", "soon"]) == 2
    assert "--for soon" in capsys.readouterr().err
    assert main(["mute", "-c", cfg, "acmee", "--comment", "x"]) == 2
    assert "did you mean 'acme'" in capsys.readouterr().err


def test_status_shows_a_muted_alert(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`watchlist status` marks an alert a mute silenced (text and --json)."""
    cfg = _cli_config(tmp_path)
    store = Store(tmp_path / "state.db")
    mute = store.add_mute("acme", T0 + timedelta(days=3650), "quiet", T0)
    a = article(1)
    store.record([a], [match(a)], CFG, T0)
    store.close()
    main(["status", "-c", str(cfg)])
    assert f"acme (muted by #{mute.id})" in capsys.readouterr().out
    main(["status", "-c", str(cfg), "--json"])
    assert '"muted": 1' in capsys.readouterr().out
