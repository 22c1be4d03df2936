from __future__ import annotations

import os
from pathlib import Path

import pytest

from memory.errors import PathRefused
from memory.note import Note
from memory.paths import check_content, check_note_path, decode_note
from memory.store import Change, Store

from conftest import stamp_for


@pytest.mark.parametrize(
    ("rel", "problem"),
    [
        ("../outside.md", ".."),
        ("skills/../../outside.md", ".."),
        ("/etc/passwd", "absolute"),
        ("/tmp/skills/x.md", "absolute"),
        ("skills/./x.md", ".."),
        ("notes/x.md", "folder"),
        ("README.md", "folder"),
        ("skills/deep/x.md", "folder"),
        ("skills/x.txt", "slug"),
        ("skills/Has Space.md", "slug"),
        ("skills/.hidden.md", "slug"),
        ("skills\\x.md", "backslash"),
        ("skills/x\0.md", "NUL"),
        ("", "empty"),
    ],
)
def test_paths_outside_the_policy_are_refused(tmp_path: Path, rel: str, problem: str) -> None:
    with pytest.raises(PathRefused, match=problem):
        check_note_path(tmp_path, rel)


def test_good_path_resolves_inside_root(tmp_path: Path) -> None:
    assert check_note_path(tmp_path, "knowledge/csv-format-2.md") == tmp_path / "knowledge" / "csv-format-2.md"


def test_symlinked_folder_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "mem"
    root.mkdir()
    os.symlink(outside, root / "skills")
    with pytest.raises(PathRefused, match="symlink"):
        check_note_path(root, "skills/x.md")


def test_symlinked_note_is_refused(tmp_path: Path) -> None:
    (tmp_path / "skills").mkdir()
    os.symlink(tmp_path / "target.md", tmp_path / "skills" / "x.md")
    with pytest.raises(PathRefused, match="symlink"):
        check_note_path(tmp_path, "skills/x.md")


def test_oversize_and_non_utf8_content_are_refused() -> None:
    assert check_content("skills/x.md", "é" * 10, max_bytes=20) == ("é" * 10).encode()
    with pytest.raises(PathRefused, match="over the cap of 20"):
        check_content("skills/x.md", "é" * 11, max_bytes=20)
    with pytest.raises(PathRefused, match="UTF-8"):
        check_content("skills/x.md", "bad \udc80 surrogate")
    with pytest.raises(PathRefused, match="not UTF-8"):
        decode_note("skills/x.md", b"caf\xe9")


def test_apply_refuses_a_path_attack_even_with_a_matching_stamp(store: Store) -> None:
    attack = Change(op="add", path="../../scribe.toml", content="pwned", base=None)
    with pytest.raises(PathRefused):
        store.apply(attack, stamp_for(attack))
    assert "pwned" not in (store.root.parent / "scribe.toml").read_text()


def test_apply_refuses_to_write_through_a_symlinked_folder(store: Store, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    os.rename(store.root / "knowledge", tmp_path / "old-knowledge")
    os.symlink(outside, store.root / "knowledge")
    change = Change(op="add", path="knowledge/x.md", content="---\ntitle: X\nkind: knowledge\n---\n", base=None)
    with pytest.raises(PathRefused, match="symlink"):
        store.apply(change, stamp_for(change))
    assert list(outside.iterdir()) == []


def test_apply_refuses_an_oversize_note(ws: Path) -> None:
    small = Store(ws / "memory", ws / ".scribe", max_bytes=200)
    change = small.plan_remember(Note(title="Big", kind="skill", body="x" * 500))
    with pytest.raises(PathRefused, match="over the cap of 200"):
        small.apply(change, stamp_for(change))
    assert small.paths() == []
