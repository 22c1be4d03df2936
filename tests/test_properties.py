"""Properties that must hold for any input: quoting, slugs, the audit chain under concurrency."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from hypothesis import given, settings, strategies as st

from agent.audit import AuditLog
from agent.prompts import quote
from agent.proposals import Proposal
from agent.review import reviewer_messages
from memory import note as notes
from memory.paths import check_note_path

tag_soup = st.text(alphabet=st.sampled_from(list("<>/ proposalPROPOSALinstructions\n\t")), max_size=80)


@given(command=tag_soup, reason=tag_soup, instructions=tag_soup)
@settings(max_examples=200, deadline=None)
def test_data_can_never_open_or_close_the_quoted_blocks(command: str, reason: str, instructions: str) -> None:
    proposal = Proposal("action", "shell", {"command": command}, reason, "t", instructions, "run")
    user = reviewer_messages(proposal)[1]["content"]
    lowered = user.lower().replace(" ", "").replace("\t", "").replace("\n", "")
    assert lowered.count("<proposal>") == 1 and lowered.count("</proposal>") == 1
    assert lowered.count("<instructions>") == 1 and lowered.count("</instructions>") == 1


@given(st.text(max_size=40))
def test_quote_leaves_text_without_tags_alone(text: str) -> None:
    if "<" not in text:
        assert quote(text) == text


@given(st.text(min_size=1, max_size=120))
def test_every_title_slugs_to_a_path_the_policy_accepts(tmp_path_factory, title: str) -> None:
    root = tmp_path_factory.getbasetemp()
    for folder in notes.FOLDERS.values():
        assert check_note_path(root, f"{folder}/{notes.slugify(title)}.md")


APPENDER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from agent.audit import AuditLog
    log = AuditLog(Path(sys.argv[1]))
    fields = ("id", "time", "run", "task", "kind", "tool", "target", "digest", "risk", "categories",
              "verdict", "decided_by", "reason", "reviewer_model", "latency_ms", "commit")
    for i in range(100):
        entry = {f: None for f in fields}
        entry.update(id=f"{sys.argv[2]}-{i}", categories=[])
        log.append(entry)
""")


def test_concurrent_appends_keep_the_chain_whole(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    procs = [subprocess.Popen([sys.executable, "-c", APPENDER, str(path), name]) for name in ("a", "b", "c")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    log = AuditLog(path)
    assert log.verify() is None
    assert len(list(log.entries())) == 300
