from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from memory import note as notes
from memory.errors import NoteError
from memory.note import Note

words = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30)
titles = words.map(str.strip).filter(bool)


@given(title=titles, body=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300),
       tags=st.lists(st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True), max_size=4),
       kind=st.sampled_from(notes.KINDS))
def test_render_then_parse_round_trips(title: str, body: str, tags: list[str], kind: str) -> None:
    original = Note(title=title, kind=kind, body=body, tags=tags, tasks=["weekly"],
                    created="2026-11-26T09:00:12Z", updated="2026-11-26T09:00:12Z", source="run-1")
    text = notes.render(original)
    parsed = notes.parse(text, "skills/x.md")
    expected_body = body if body.endswith("\n") or not body else body + "\n"
    assert (parsed.title, parsed.kind, parsed.tags, parsed.tasks) == (title, kind, tags, ["weekly"])
    assert parsed.body == expected_body
    assert notes.render(parsed) == notes.render(notes.parse(notes.render(parsed)))


def test_render_uses_stable_key_order_and_quoted_times() -> None:
    note = Note(title="T", kind="skill", body="b\n", tags=["a"], tasks=["t"],
                created="2026-11-26T09:00:12Z", updated="2026-11-26T09:00:13Z", source="r")
    header = notes.render(note).split("---\n")[1]
    keys = [line.split(":")[0] for line in header.splitlines()]
    assert keys == ["title", "kind", "tags", "tasks", "created", "updated", "source"]
    assert "created: '2026-11-26T09:00:12Z'" in header


def test_hand_written_note_keeps_unknown_keys_and_unquoted_times() -> None:
    text = "---\ntitle: Hand\nkind: knowledge\nauthor: me\ncreated: 2026-11-26T09:00:12Z\n---\nBody\n"
    parsed = notes.parse(text, "knowledge/hand.md")
    assert parsed.extra == {"author": "me"}
    assert parsed.created == "2026-11-26T09:00:12Z"
    assert "author: me" in notes.render(parsed)


@pytest.mark.parametrize(
    ("text", "field", "problem"),
    [
        ("---\nkind: skill\n---\nx", "title", "required"),
        ("---\ntitle: T\n---\nx", "kind", "required"),
        ("---\ntitle: T\nkind: recipe\n---\nx", "kind", "one of"),
        ("---\ntitle: [a, b]\nkind: skill\n---\nx", "title", "must be text"),
        ("---\ntitle: T\nkind: skill\ntags: {a: 1}\n---\nx", "tags", "list"),
        ("---\ntitle: T\nkind: skill\ncreated: last tuesday\n---\nx", "created", "ISO 8601"),
        ("no front matter", None, "no front matter"),
        ("---\ntitle: T\nkind: skill\n", None, "not closed"),
        ("---\ntitle: [unclosed\n---\nx", None, "not valid YAML"),
        ("---\n- a\n- b\n---\nx", None, "mapping"),
    ],
)
def test_validation_names_file_field_and_problem(text: str, field: str | None, problem: str) -> None:
    with pytest.raises(NoteError) as caught:
        notes.parse(text, "skills/bad.md")
    assert caught.value.path == "skills/bad.md"
    assert caught.value.field == field
    assert problem in str(caught.value)
    assert str(caught.value).startswith("skills/bad.md")


def test_yaml_is_loaded_safely() -> None:
    with pytest.raises(NoteError):
        notes.parse("---\ntitle: !!python/object/apply:os.system ['echo hi']\nkind: skill\n---\n", "skills/x.md")


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Parse the weekly CSV export", "parse-the-weekly-csv-export"),
        ("  Ünïcödé   títle!! ", "unicode-title"),
        ("../../etc/passwd", "etc-passwd"),
        ("日本語", "note"),
        ("a" * 100, "a" * 60),
    ],
)
def test_slugify(title: str, slug: str) -> None:
    assert notes.slugify(title) == slug
