"""Tests for watchlist.sources.parse: format sniffing, feeds, hostile XML, the feed corpus."""

from __future__ import annotations

import contextlib
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import corpora_dir
from localserver import LocalServer

from watchlist.sources import SourceError, parse_bytes

CORPORA = corpora_dir()
CORPUS = CORPORA / "feedparser-tests"
REUTERS = CORPORA / "reuters21578.jsonl"

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>News</title>
<item><title>STAR Market IPO</title><link>https://ex.com/1?utm_source=rss</link>
<guid>item-1</guid><description>&lt;p&gt;China &lt;b&gt;backs&lt;/b&gt; IPOs&lt;/p&gt;</description>
<pubDate>Fri, 01 Mar 2024 12:00:00 +0800</pubDate></item>
<item><title>Second</title><link>https://ex.com/2</link></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>
<entry><id>urn:x:1</id><title>Atom one</title><link href="https://ex.com/a"/>
<updated>2024-03-01T04:00:00Z</updated>
<content type="html">&lt;p&gt;Body &amp;amp; more&lt;/p&gt;</content></entry></feed>"""

RDF = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
<channel rdf:about="https://ex.com/"><title>R</title></channel>
<item rdf:about="https://ex.com/r1"><title>RDF one</title><link>https://ex.com/r1</link></item>
</rdf:RDF>"""


def test_rss_items_become_articles() -> None:
    """RSS 2.0 items are parsed with guid, canonical link, text summary and UTC time."""
    arts = parse_bytes(RSS, name="feed.xml", source="news")
    assert [a.title for a in arts] == ["STAR Market IPO", "Second"]
    first = arts[0]
    assert first.id == "item-1"
    assert first.url == "https://ex.com/1"
    assert first.summary == "China backs IPOs"
    assert first.published == datetime(2024, 3, 1, 4, tzinfo=UTC)
    assert first.source == "news"
    assert arts[1].id == "https://ex.com/2"


def test_atom_and_rdf() -> None:
    """Atom content and RDF items are read too."""
    (atom,) = parse_bytes(ATOM, name="a", source="s")
    assert (atom.id, atom.title, atom.body) == ("urn:x:1", "Atom one", "Body & more")
    assert atom.published == datetime(2024, 3, 1, 4, tzinfo=UTC)
    (rdf,) = parse_bytes(RDF, name="r", source="s")
    assert (rdf.title, rdf.url) == ("RDF one", "https://ex.com/r1")


@pytest.mark.parametrize(
    ("data", "titles"),
    [
        (b'{"title": "one", "body": "b"}', ["one"]),
        (b'[{"title": "one"}, {"title": "two"}]', ["one", "two"]),
        (b'{"articles": [{"title": "one"}]}', ["one"]),
        (b'{"title": "one"}\n\n{"title": "two"}\n', ["one", "two"]),
        (b'\xef\xbb\xbf{"title": "bom"}', ["bom"]),
        (b"Title line\nbody one\nbody two", ["Title line"]),
        (b"\n\n  Padded title  \n", ["Padded title"]),
        ("Caf\u00e9 latin-1".encode("latin-1"), ["Caf\u00e9 latin-1"]),
        ('\ufeff{"title": "utf16"}'.encode("utf-16-le"), ["utf16"]),
    ],
)
def test_sniffed_formats(data: bytes, titles: list[str]) -> None:
    """JSON objects, lists, JSONL and plain text are told apart by their content."""
    assert [a.title for a in parse_bytes(data, name="in", source="s")] == titles


def test_text_title_and_body() -> None:
    """Plain text: first non-empty line is the title, the rest the body."""
    (art,) = parse_bytes(b"\nHeadline\n\nPara one.\nPara two.\n", name="t.txt", source="s")
    assert (art.title, art.body) == ("Headline", "Para one.\nPara two.")
    assert art.id.startswith("sha256:")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "in.json: empty"),
        (b"   \n\t ", "in.json: empty"),
        (b'{"title": ', "in.json:1:11: not valid JSON"),
        (b'{"title": "a"}\n{oops}\n', "in.json:2:2: not valid JSON Lines"),
        (b"[1, 2]", "in.json:1:1: item 0: expected an article object"),
        (b'{"foo": "bar"}', "in.json:1:1: the article has no title, summary, body or url"),
        (b"\x00\x01\x02\x03binary\x00", "in.json: binary data"),
        (b"<html><body><p>hi</p></body></html>", "in.json: got an HTML page, not a feed"),
        (b"<!DOCTYPE html><html><p>x</p>", "in.json: got an HTML page, not a feed"),
        (b"<rss version='2.0'><channel><item><title>cut", "in.json: the feed ends early"),
        (b"<notafeed><x/></notafeed>", "in.json: not an RSS, Atom or RDF feed"),
    ],
)
def test_garbage_raises_source_error(data: bytes, message: str) -> None:
    """Garbage raises SourceError whose message names the input and the problem."""
    with pytest.raises(SourceError) as info:
        parse_bytes(data, name="in.json", source="s")
    assert str(info.value).startswith(message)


def test_empty_feed_is_no_articles() -> None:
    """A valid feed with no items is not an error."""
    data = b"<rss version='2.0'><channel><title>t</title></channel></rss>"
    assert parse_bytes(data, name="f", source="s") == []


def test_wrong_charset_still_decodes() -> None:
    """A feed that lies about its charset is still read, without crashing."""
    data = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        "<item><title>Caf\u00e9 news</title></item></channel></rss>"
    ).encode("latin-1")
    (art,) = parse_bytes(data, name="f", source="s")
    assert art.title.startswith("Caf") and art.title.endswith("news")


BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + b"".join(
        f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'.encode()
        for i in range(1, 10)
    )
    + b']>\n<rss version="2.0"><channel><title>t</title>'
    b"<item><title>boom &lol9;</title><description>x</description></item></channel></rss>"
)


def test_billion_laughs_not_expanded() -> None:
    """Nested entity definitions are refused from the DOCTYPE alone, never expanded."""
    with pytest.raises(SourceError, match=r"^bomb: its DOCTYPE declares entities that expand"):
        parse_bytes(BILLION_LAUGHS, name="bomb", source="s")


def laughs(before: str = "", levels: int = 9) -> bytes:
    """A billion-laughs feed with ``before`` placed ahead of the entity declarations."""
    ents = "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, levels + 1)
    )
    return (
        f'<?xml version="1.0"?><!DOCTYPE r [{before}<!ENTITY lol "lol">{ents}]>'
        '<rss version="2.0"><channel><title>t</title>'
        f"<item><title>boom &lol{levels};</title></item></channel></rss>"
    ).encode()


GUARD_BYPASSES = [
    "<!-- <a> -->",  # a tag in a comment once passed for the first element
    "<?x <b?>",
    "<!-- ]> -->",
    "<!-- it's -->",
    '<!ENTITY q "]>">',
    "<!--> <a> -->",
]


@pytest.mark.parametrize("before", GUARD_BYPASSES)
def test_billion_laughs_guard_not_bypassed(before: str) -> None:
    """Comments, PIs and quoted ``]>`` inside the DOCTYPE do not hide it: refused at once."""
    with pytest.raises(SourceError, match=r"\(billion laughs\); refused"):
        parse_bytes(laughs(before, levels=60), name="bomb", source="s")  # 10**60: never expanded


@pytest.mark.parametrize("before", ["", *GUARD_BYPASSES])
def test_xxe_guard_not_bypassed(tmp_path: Path, before: str) -> None:
    """An external entity behind a comment or PI in the DOCTYPE is refused; no file is read."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-42")
    data = (
        f'<?xml version="1.0"?><!DOCTYPE r [{before}<!ENTITY xxe SYSTEM "file://{secret}">]>'
        '<rss version="2.0"><channel><title>t</title>'
        "<item><title>a &xxe; b</title></item></channel></rss>"
    ).encode()
    with pytest.raises(SourceError, match=r"an external entity \(XXE\); refused") as info:
        parse_bytes(data, name="xxe", source="s")
    assert "TOPSECRET" not in str(info.value)


def test_entities_past_the_scan_are_refused_by_defusedxml() -> None:
    """A UTF-16 feed without BOM is decoded before the scan, which refuses its entity bomb."""
    data = laughs(levels=60).decode().replace('"1.0"?>', '"1.0" encoding="utf-16"?>', 1)
    refused = r"^bomb: (the feed declares XML entities|its DOCTYPE declares entities)"
    with pytest.raises(SourceError, match=refused):
        parse_bytes(data.encode("utf-16-le"), name="bomb", source="s")  # 10**60: never expanded


def test_harmless_doctypes_still_parse() -> None:
    """A feed with an external DOCTYPE, or a subset behind a comment, still gives its items."""
    item = '<rss version="0.91"><channel><title>t</title><item><title>Kept</title></item>'
    docs = [
        '<?xml version="1.0"?><!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"'
        ' "http://my.netscape.com/publish/formats/rss-0.91.dtd">' + item + "</channel></rss>",
        '<?xml version="1.0"?><!-- hello --><!DOCTYPE rss [<!ENTITY c "&#169;">]>'
        + item
        + "</channel></rss>",
    ]
    for doc in docs:
        assert [a.title for a in parse_bytes(doc.encode(), name="f", source="s")] == ["Kept"]


@pytest.mark.parametrize("inline", [True, False])
def test_xxe_reads_no_file(tmp_path: Path, inline: bool) -> None:
    """An external entity naming a local file never pulls its content into an article."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-42")
    sep = "" if inline else "\n"
    data = (
        f'<?xml version="1.0"?>\n<!DOCTYPE r [{sep}<!ENTITY xxe SYSTEM "file://{secret}">{sep}]>\n'
        '<rss version="2.0"><channel><title>t</title>'
        "<item><title>a &xxe; b</title><description>&xxe;</description></item></channel></rss>"
    ).encode()
    try:
        arts = parse_bytes(data, name="xxe", source="s")
    except SourceError:
        arts = []
    assert all("TOPSECRET" not in (a.title + a.summary + a.body) for a in arts)


def test_xml_contacts_nothing(http_server: LocalServer) -> None:
    """External DTDs and entities pointing at a server are never fetched."""
    dtd = http_server.url("/evil.dtd")
    ent = http_server.url("/evil-entity")
    payloads = [
        f'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "{dtd}"><rss version="2.0"><channel>'
        "<item><title>x</title></item></channel></rss>",
        f'<?xml version="1.0"?>\n<!DOCTYPE r [\n<!ENTITY % p SYSTEM "{dtd}">\n%p;\n]>\n'
        '<rss version="2.0"><channel><item><title>y</title></item></channel></rss>',
        f'<?xml version="1.0"?>\n<!DOCTYPE r [\n<!ENTITY e SYSTEM "{ent}">\n]>\n'
        '<rss version="2.0"><channel><item><title>&e;</title></item></channel></rss>',
    ]
    for payload in payloads:
        with contextlib.suppress(SourceError):
            parse_bytes(payload.encode(), name="p", source="s")
    time.sleep(0.2)
    assert http_server.requests == []


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"feedparser corpus not found at {CORPUS}")
def test_feedparser_corpus_never_crashes() -> None:
    """Every edge-case feed in the corpus parses or raises SourceError, nothing else."""
    files = [p for p in sorted(CORPUS.rglob("*")) if p.is_file()]
    assert len(files) > 1000
    parsed = errors = 0
    for path in files:
        try:
            parse_bytes(path.read_bytes(), name=str(path), source="corpus")
            parsed += 1
        except SourceError:
            errors += 1
    assert parsed > len(files) // 2


def test_empty_items_skipped_unless_all_empty() -> None:
    """A list or JSONL item with nothing to match is skipped; all empty is an error."""
    data = b'{"id": "a", "title": "kept"}\n{"id": "b", "title": "", "body": ""}\n'
    assert [a.id for a in parse_bytes(data, name="f", source="s")] == ["a"]
    with pytest.raises(SourceError, match=r"f:1:1: item 0: the article has no title"):
        parse_bytes(b'[{"id": "x"}, {"id": "y"}]', name="f", source="s")


@pytest.mark.skipif(not REUTERS.is_file(), reason=f"Reuters corpus not found at {REUTERS}")
def test_reuters_corpus_as_jsonl() -> None:
    """The whole Reuters JSONL file parses: unique ids kept, almost every date read."""
    arts = parse_bytes(REUTERS.read_bytes(), name=str(REUTERS), source="reuters")
    assert len(arts) > 21_000
    assert len({a.id for a in arts}) == len(arts)
    assert all(a.id.startswith("reuters-") for a in arts)
    assert sum(a.published is not None for a in arts) > 0.99 * len(arts)
