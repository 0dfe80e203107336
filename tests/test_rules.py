"""Rule files: entries, watchlists, defaults, and an exact error for every kind of mistake."""

from __future__ import annotations

import json
import time as clock
from datetime import time, timedelta
from pathlib import Path

import pytest
from conftest import corpora_dir

from watchlist.config.errors import ConfigErrors
from watchlist.config.rules import load_rules, parse_cron, parse_quiet_hours
from watchlist.models import Entry

CHANNELS = ("console", "team-slack", "me")


def write(folder: Path, name: str, text: str) -> Path:
    """Write ``text`` to ``folder/name`` and return the path."""
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def rule_errors(paths: list[Path], **kwargs: object) -> list[str]:
    """The error lines load_rules raises (fails when it raises none)."""
    with pytest.raises(ConfigErrors) as info:
        load_rules(paths, **kwargs)  # type: ignore[arg-type]
    return [str(e) for e in info.value.errors]


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in tmp_path so error paths read as the user wrote them."""
    monkeypatch.chdir(tmp_path)


SPEC_RULES = """\
watchlists:
  ai-labs:
    - OpenAI
    - name: Anthropic
      aliases: [Anthropic PBC]
rules:
  - name: star-market
    description: IPOs on the STAR Market
    topics: [artificial intelligence, quantum computing]
    exchanges:
      - name: STAR Market
        aliases: [Sci-Tech Innovation Board, 科创板]
    keywords: [IPO, listing]
    exclude: [opinion]
    notify: [team-slack]
    priority: high
  - name: us-ai-labs
    companies: ai-labs
    notify: [me]
    digest: "0 8 * * *"
    quiet_hours: "22:00-07:00"
    require: any
    fields: [title, summary]
    threshold: 92
    cooldown: 1h30m
    enabled: false
"""


def test_spec_example_loads(tmp_path: Path) -> None:
    """SPEC's rule file gives rules with every key read and the watchlist expanded."""
    star, labs = load_rules([write(tmp_path, "a.yaml", SPEC_RULES)], channels=CHANNELS)
    assert star.name == "star-market"
    assert star.description == "IPOs on the STAR Market"
    assert [e.name for e in star.topics] == ["artificial intelligence", "quantum computing"]
    assert star.exchanges == (Entry("STAR Market", ("Sci-Tech Innovation Board", "科创板")),)
    assert star.exclude == (Entry("opinion"),)
    assert (star.notify, star.priority, star.require, star.threshold) == (
        ("team-slack",),
        "high",
        "all",
        88.0,
    )
    assert star.origin == f"{tmp_path / 'a.yaml'}:7"
    assert labs.companies == (Entry("OpenAI"), Entry("Anthropic", ("Anthropic PBC",)))
    assert labs.digest == "0 8 * * *"
    assert labs.quiet_hours == (time(22, 0), time(7, 0))
    assert (labs.require, labs.fields, labs.threshold) == ("any", ("title", "summary"), 92.0)
    assert labs.cooldown == timedelta(hours=1, minutes=30)
    assert labs.enabled is False


def test_entry_mapping_options(tmp_path: Path) -> None:
    """An entry mapping reads aliases, exact, case_sensitive and its own threshold."""
    text = (
        "- name: r\n  companies:\n"
        "    - {name: WHO, aliases: World Health Organization, exact: true,"
        " case_sensitive: true, threshold: 95}\n"
        "    - 7203\n"
    )
    (rule,) = load_rules([write(tmp_path, "r.yaml", text)])
    assert rule.companies == (
        Entry("WHO", ("World Health Organization",), exact=True, case_sensitive=True, threshold=95),
        Entry("7203"),
    )


def test_watchlists_are_shared_across_files(tmp_path: Path) -> None:
    """A watchlist declared in one file can be used by a rule in a file read earlier."""
    a = write(tmp_path, "a.yaml", "- name: r\n  companies: labs\n")
    b = write(tmp_path, "b.yaml", "watchlists:\n  labs: [OpenAI]\n")
    (rule,) = load_rules([a, b])
    assert rule.companies == (Entry("OpenAI"),)


def test_defaults_apply_unless_rule_sets_its_own(tmp_path: Path) -> None:
    """Defaults fill what a rule leaves out; a rule's own value wins."""
    text = "- name: a\n  topics: [x]\n- name: b\n  topics: [x]\n  threshold: 70\n  notify: [me]\n"
    defaults = {"threshold": 88, "notify": ["team-slack"], "cooldown": "6h", "priority": "high"}
    a, b = load_rules([write(tmp_path, "r.yaml", text)], defaults=defaults)
    assert (a.threshold, a.notify, a.cooldown, a.priority) == (
        88.0,
        ("team-slack",),
        timedelta(hours=6),
        "high",
    )
    assert (b.threshold, b.notify, b.cooldown) == (70.0, ("me",), timedelta(hours=6))


def test_notify_defaults_to_console(tmp_path: Path) -> None:
    """A rule with no notify and no default notify goes to the console channel."""
    (rule,) = load_rules([write(tmp_path, "r.yaml", "- name: a\n  keywords: [x]\n")])
    assert rule.notify == ("console",)


def test_folder_of_rule_files_is_read_sorted(tmp_path: Path) -> None:
    """A folder path reads every *.yaml and *.yml in it, sorted by name."""
    folder = tmp_path / "rules"
    folder.mkdir()
    write(folder, "b.yml", "- name: b\n  keywords: [x]\n")
    write(folder, "a.yaml", "- name: a\n  keywords: [x]\n")
    write(folder, "notes.txt", "not rules")
    assert [r.name for r in load_rules([folder])] == ["a", "b"]


def test_channels_none_skips_channel_check(tmp_path: Path) -> None:
    """Without a channel list (scan --rules), any channel name is accepted."""
    path = write(tmp_path, "r.yaml", "- name: a\n  keywords: [x]\n  notify: [anything]\n")
    assert load_rules([path])[0].notify == ("anything",)
    assert rule_errors([path], channels=CHANNELS) == [
        "r.yaml:3:12: unknown channel 'anything'; declare it under channels: in config.yaml"
    ]


def test_empty_and_watchlist_only_files_have_no_rules(tmp_path: Path) -> None:
    """An empty file and a file of only watchlists are valid and add no rules."""
    paths = [
        write(tmp_path, "a.yaml", "# none yet\n"),
        write(tmp_path, "b.yaml", "watchlists: {}\n"),
    ]
    assert load_rules(paths) == ()


BAD_RULES = [
    ("- name: r\n  topics: [x]\n  treshold: 90\n",
     "r.yaml:3:3: unknown key 'treshold' in a rule (did you mean 'threshold'?)"),
    ("- name: r\n  topics: [x]\n  notify: [tem-slack]\n",
     "r.yaml:3:12: unknown channel 'tem-slack' (did you mean 'team-slack'?)"),
    ("- name: r\n  topics: [x]\n  threshold: 120\n",
     "r.yaml:3:14: threshold must be from 0 to 100, not 120"),
    ("- name: r\n  topics: [x]\n  threshold: high\n",
     "r.yaml:3:14: threshold: expected a number from 0 to 100, found the text 'high'"),
    ("- name: r\n  topics: [x]\n  priority: hgih\n",
     "r.yaml:3:13: priority must be 'normal' or 'high', not 'hgih' (did you mean 'high'?)"),
    ("- name: r\n  topics: [x]\n  require: some\n",
     "r.yaml:3:12: require must be 'all' or 'any', not 'some'"),
    ("- name: r\n  topics: [x]\n  cooldown: 6\n",
     "r.yaml:3:13: cooldown: expected a duration such as 6h or 30m, found the number 6"),
    ("- name: r\n  topics: [x]\n  cooldown: 6y\n",
     "r.yaml:3:13: cooldown: unknown unit 'y' in duration '6y'; write a number with a unit, "
     "such as 30s, 15m, 6h, 1d or 1h30m"),
    ("- name: r\n  topics: [x]\n  quiet_hours: 22-07\n",
     'r.yaml:3:16: quiet_hours: expected a time range like "22:00-07:00", '
     "found the text '22-07'"),
    ("- name: r\n  topics: [x]\n  quiet_hours: '22:00-25:00'\n",
     "r.yaml:3:16: quiet_hours: '22:00-25:00' has a time outside 00:00-23:59"),
    ("- name: r\n  topics: [x]\n  digest: '0 8 * *'\n",
     'r.yaml:3:11: digest: expected a 5-field cron expression like "0 8 * * *" '
     "(minute hour day month weekday), found the text '0 8 * *'"),
    ("- name: r\n  topics: [x]\n  digest: '0 25 * * *'\n",
     'r.yaml:3:11: digest: expected a 5-field cron expression like "0 8 * * *" '
     "(minute hour day month weekday), found the text '0 25 * * *'"),
    ("- name: r\n  topics: [x]\n  enabled: maybe\n",
     "r.yaml:3:12: enabled: expected true or false, found the text 'maybe'"),
    ("- name: r\n  topics: [x]\n  fields: [title, bodyy]\n",
     "r.yaml:3:19: unknown field 'bodyy' (did you mean 'body'?); use title, summary, body"),
    ("- name: r\n  companies: ai-lab\n",
     "r.yaml:2:14: unknown watchlist 'ai-lab'; a string names a watchlist: to list entries, "
     "write companies: [ai-lab], or declare it under watchlists:"),
    ("watchlists:\n  ai-labs: [x]\nrules:\n  - name: r\n    companies: ai-lab\n",
     "r.yaml:5:16: unknown watchlist 'ai-lab' (did you mean 'ai-labs'?)"),
    ("- name: r\n  description: no groups\n",
     "r.yaml:1:3: rule 'r' needs at least one of topics, companies, exchanges, keywords"),
    ("- topics: [x]\n", "r.yaml:1:3: a rule needs 'name'"),
    ("- name: r\n  topics: []\n",
     "r.yaml:2:11: topics is empty; list at least one entry or remove the key"),
    ("- name: r\n  topics: x, y\n",
     "r.yaml:2:11: unknown watchlist 'x, y'; a string names a watchlist: to list entries, "
     "write topics: [x, y], or declare it under watchlists:"),
    ("- name: r\n  topics: xy\n",
     "r.yaml:2:11: unknown watchlist 'xy'; a string names a watchlist: to list entries, "
     "write topics: [xy], or declare it under watchlists:"),
    ("- name: r\n  keywords: {name: x}\n",
     "r.yaml:2:13: keywords: expected a list of entries, found a mapping"),
    ("- name: r\n  keywords: [[x]]\n",
     "r.yaml:2:14: keywords: expected a name or a mapping with name:, found a list"),
    ("- name: r\n  keywords:\n    - {name: IPO, alias: [x]}\n",
     "r.yaml:3:19: unknown key 'alias' in an entry of keywords (did you mean 'aliases'?)"),
    ("- name: r\n  keywords:\n    - {aliases: [x]}\n",
     "r.yaml:3:7: an entry of keywords needs 'name'"),
    ("- name: r\n  keywords:\n    - {name: x, exact: yes please}\n",
     "r.yaml:3:24: exact: expected true or false, found the text 'yes please'"),
    ("- name: r\n  exchanges:\n    - {name: x, threshold: -1}\n",
     "r.yaml:3:28: threshold must be from 0 to 100, not -1"),
    ("- just text\n",
     "r.yaml:1:3: expected a rule (a mapping with name: and topics:...), "
     "found the text 'just text'"),
    ("rules:\n  - name: r\n    topics: [x]\nwatchlist: {}\n",
     "r.yaml:4:1: unknown key 'watchlist' in a rule file (did you mean 'watchlists'?)"),
    ("rules: {name: r}\n", "r.yaml:1:8: rules: expected a list of rules, found a mapping"),
    ("just text\n",
     "r.yaml:1:1: expected a list of rules or a mapping with rules:, found the text 'just text'"),
    ("- name: r\n  topics: [x]\n  notify: [me]\n  notify: [me]\n",
     "r.yaml:4:3: duplicate key 'notify' (first at line 3, column 3); remove one of them"),
    ("- name: r\n  topics: [x\n",
     "r.yaml:3:1: invalid YAML: while parsing a flow sequence "
     "did not find expected ',' or ']'"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), BAD_RULES)
def test_each_mistake_has_its_exact_error(tmp_path: Path, text: str, expected: str) -> None:
    """Each kind of mistake gives one error at the exact line and column, with a hint."""
    assert rule_errors([write(tmp_path, "r.yaml", text)], channels=CHANNELS) == [expected]


def test_name_only_rule_file_reports_missing_rules(tmp_path: Path) -> None:
    """A mapping that is one rule (name:, no rules:) is one error suggesting '- '."""
    assert rule_errors([write(tmp_path, "r.yaml", "name: r\n")]) == [
        "r.yaml:1:1: this file is one rule written as a mapping; a rule file is a list of "
        "rules: start the rule with '- ' (and indent its other lines by two spaces)",
    ]


def test_every_error_in_every_file_is_reported(tmp_path: Path) -> None:
    """Errors are collected from all files, in file order, not just the first."""
    a = write(tmp_path, "a.yaml", "- name: dup\n  topics: [x]\n  treshold: 1\n")
    b = write(tmp_path, "b.yaml", "- name: dup\n  topics: [x]\n  priority: top\n")
    assert rule_errors([a, b]) == [
        "a.yaml:3:3: unknown key 'treshold' in a rule (did you mean 'threshold'?)",
        "b.yaml:1:9: duplicate rule name 'dup' (first defined at a.yaml:1)",
        "b.yaml:3:13: priority must be 'normal' or 'high', not 'top'",
    ]


def test_duplicate_watchlists_across_files(tmp_path: Path) -> None:
    """A watchlist name declared twice names the first place."""
    a = write(tmp_path, "a.yaml", "watchlists:\n  labs: [x]\n")
    b = write(tmp_path, "b.yaml", "watchlists:\n  labs: [y]\n")
    assert rule_errors([a, b]) == [
        "b.yaml:2:3: duplicate watchlist 'labs' (first defined at a.yaml:2)"
    ]


def test_missing_file_and_empty_folder(tmp_path: Path) -> None:
    """A rule file that does not exist and a folder with no rule files are errors."""
    (tmp_path / "empty").mkdir()
    assert rule_errors([tmp_path / "nope.yaml", tmp_path / "empty"]) == [
        "empty: the rules folder 'empty' has no *.yaml or *.yml files; add a rule file",
        "nope.yaml: rule file not found; check the path",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("22:00-07:00", (time(22), time(7))), ("9:30 - 17:45", (time(9, 30), time(17, 45)))],
)
def test_parse_quiet_hours(text: str, expected: tuple[time, time]) -> None:
    """Quiet hours read as (start, end) times; the window may cross midnight."""
    assert parse_quiet_hours(text) == expected


@pytest.mark.parametrize(
    ("text", "ok"),
    [("0 8 * * *", True), ("*/15 9-17 * * 1-5", True), ("@daily", False), ("0 8 * * * *", False)],
)
def test_parse_cron_needs_five_valid_fields(text: str, ok: bool) -> None:
    """Digest schedules must be valid 5-field cron expressions."""
    if ok:
        assert parse_cron(text) == text
    else:
        with pytest.raises(ValueError, match="5-field cron"):
            parse_cron(text)


CORPORA = corpora_dir()


@pytest.mark.slow
def test_sec_company_watchlist_loads_quickly(tmp_path: Path) -> None:
    """All 10,077 SEC names with tickers load in about 10x the time of a tenth of them."""
    source = CORPORA / "sec-company-tickers.json"
    if not source.exists():
        pytest.skip(f"corpus not available: {source} (set WATCHLIST_CORPORA)")
    data = json.loads(source.read_text(encoding="utf-8"))
    rows = list(data.values()) if isinstance(data, dict) else list(data)

    def load(part: list[dict[str, object]], name: str) -> tuple[object, float]:
        lines = ["watchlists:", "  sec:"]
        for row in part:
            lines.append(f"    - name: {json.dumps(row['title'])}")
            lines.append(f"      aliases: [{json.dumps(row['ticker'])}]")
        lines += ["rules:", "  - name: sec", "    companies: sec", ""]
        path = write(tmp_path, name, "\n".join(lines))
        start = clock.perf_counter()
        (rule,) = load_rules([path])
        return rule, clock.perf_counter() - start

    tenths, wholes = [], []
    for _ in range(3):  # interleaved, best of three: the CPUs are shared
        tenths.append(load(rows[: len(rows) // 10], "tenth.yaml")[1])
        rule, took = load(rows, "sec.yaml")
        wholes.append(took)
    tenth, whole = min(tenths), min(wholes)
    assert len(rule.companies) == len(rows)  # type: ignore[attr-defined]
    assert rule.companies[0].aliases == (str(rows[0]["ticker"]),)  # type: ignore[attr-defined]
    assert whole < 30 * tenth, f"{whole:.2f} s for all, {tenth:.2f} s for a tenth"  # linear


SEED = (
    Path(__file__).resolve().parent.parent.parent / "shared" / "seeds" / "000_dffc7b51e9925ef8.txt"
)


@pytest.mark.skipif(not SEED.is_file(), reason=f"seed story not found at {SEED}")
def test_example_rule_keywords_catch_the_seed_headline() -> None:
    """The example rule's natural `IPO` keyword matches "IPOs" in the seed headline (v2 plural)."""
    from dataclasses import replace

    from watchlist.match.oracle import oracle_match
    from watchlist.sources.articles import make_article

    example = Path(__file__).resolve().parent.parent / "rules" / "star-market.yaml"
    (rule,) = load_rules([example])
    only_keywords = replace(rule, topics=(), companies=(), exchanges=(), exclude=())
    headline = SEED.read_text(encoding="utf-8").splitlines()[0]
    article = make_article({"title": headline}, "seed")
    (match,) = oracle_match([only_keywords], article)
    assert [(h.group, h.entry, h.text) for h in match.hits] == [("keywords", "IPO", "IPOs")]
