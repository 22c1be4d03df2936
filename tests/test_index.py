from __future__ import annotations

from pathlib import Path

import pytest

from memory.index import Index
from memory.store import Store

from conftest import commit_by_hand, note_text


@pytest.fixture
def index(ws: Path) -> Index:
    return Index(ws / ".scribe" / "index.sqlite", ws / "memory")


def add(store: Store, rel: str, title: str, body: str, kind: str = "knowledge") -> None:
    commit_by_hand(store.root, rel, note_text(title, kind, body))


def test_title_match_ranks_above_body_match(store: Store, index: Index) -> None:
    add(store, "knowledge/a.md", "Deploy notes", "The cron job runs at night.\n" * 3)
    add(store, "knowledge/b.md", "Cron schedules", "How schedules are written.\n")
    add(store, "knowledge/c.md", "Unrelated", "Nothing to see.\n")
    hits = index.search("cron")
    assert [h.path for h in hits] == ["knowledge/b.md", "knowledge/a.md"]
    assert hits[0].title == "Cron schedules" and hits[0].kind == "knowledge"


def test_refresh_reindexes_only_changed_notes(store: Store, index: Index) -> None:
    for i in range(5):
        add(store, f"knowledge/n{i}.md", f"Note {i}", f"body {i}\n")
    assert index.refresh() == 5
    assert index.refresh() == 0
    add(store, "knowledge/n2.md", "Note 2", "a new word: zebra\n")
    commit_by_hand(store.root, "knowledge/n4.md", None)
    assert index.refresh() == 1
    assert [h.path for h in index.search("zebra")] == ["knowledge/n2.md"]
    assert index.search("Note 4") and all(h.path != "knowledge/n4.md" for h in index.search("Note 4"))


@pytest.mark.parametrize(
    ("query", "finds"),
    [('"unbalanced', False), ("it's", True), ("cut -d';'", False), ("csv AND NOT", True), ("NEAR(csv", True),
     ("title:csv", True), ("csv*", True), ("^csv", True), ("(csv", True), ("a OR", False), ("-csv", True),
     ("+", False), ("!!!", False), ("", False), ("   ", False), ('""', False), ("ü", False), ("___", False),
     ("csv\0", True), ("SELECT * FROM notes; --", False)],
)
def test_any_user_query_works(store: Store, index: Index, query: str, finds: bool) -> None:
    """FTS operators and punctuation are not syntax: no error, only word matches."""
    add(store, "knowledge/csv.md", "CSV format", "The export uses ';' as separator; it's odd.\n")
    hits = index.search(query)
    assert [h.path for h in hits] == (["knowledge/csv.md"] if finds else [])


def test_quoted_and_punctuated_queries_still_find_words(store: Store, index: Index) -> None:
    add(store, "knowledge/csv.md", "CSV format", "The export uses ';' as separator; it's odd.\n")
    for query in ['"separator', "separator!", "NOT separator", "title:separator", "separator*"]:
        assert [h.path for h in index.search(query)] == ["knowledge/csv.md"], query


def test_malformed_note_is_found_and_flagged(store: Store, index: Index) -> None:
    commit_by_hand(store.root, "knowledge/bad.md", "---\ntitle: [oops\n---\nplatypus facts\n")
    add(store, "knowledge/good.md", "Good", "platypus lays eggs\n")
    hits = {h.path: h for h in index.search("platypus")}
    assert hits["knowledge/good.md"].error is None
    assert "not valid YAML" in hits["knowledge/bad.md"].error and hits["knowledge/bad.md"].title == "bad"


def test_uncommitted_edits_are_not_searched(store: Store, index: Index) -> None:
    (store.root / "knowledge" / "wip.md").write_text(note_text("Wip", "knowledge", "walrus\n"))
    assert index.search("walrus") == []


def test_a_damaged_index_is_rebuilt_from_git(store: Store, index: Index) -> None:
    add(store, "knowledge/a.md", "Otters", "otters hold hands\n")
    index.db_path.parent.mkdir(parents=True, exist_ok=True)
    index.db_path.write_bytes(b"this is not a database" * 100)
    assert [h.path for h in index.search("otters")] == ["knowledge/a.md"]
