"""Deterministic rules, run before any model review.

A rule either denies (final: no model can overrule it) or passes. Rules
never allow on their own. Each has a name and a reason for the audit log.
The patterns aim at unmistakable cases; benign look-alikes (``rm -rf build/``,
a note about reviewing pull requests, prose that mentions a token) pass.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from agent.proposals import Proposal


@dataclass(frozen=True)
class RuleDeny:
    rule: str
    reason: str


@dataclass(frozen=True)
class Protected:
    """What actions may never write: the workspace's human-owned and scribe-owned paths."""

    workdir: Path
    paths: tuple[Path, ...]  # memory dir, scribe.toml, tasks/, .scribe/

    def covers(self, path: Path) -> bool:
        return any(path == p or p in path.parents for p in self.paths)

    def resolve(self, raw: str) -> Path:
        """Where a path argument lands, following symlinks, relative to the workdir."""
        expanded = Path(raw).expanduser()
        return (expanded if expanded.is_absolute() else self.workdir / expanded).resolve()


# ----- secrets -----

SECRET_PATTERNS = [
    ("private key", r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"),
    ("AWS access key id", r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b"),
    ("GitHub token", r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{22,})"),
    ("GitLab token", r"\bglpat-[A-Za-z0-9_\-]{20,}"),
    ("OpenAI or Anthropic key", r"\bsk-(?:proj-|ant-|svcacct-)?[A-Za-z0-9_\-]{20,}"),
    ("Slack token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    ("Stripe key", r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}"),
    ("Google API key", r"\bAIza[0-9A-Za-z_\-]{35}"),
    ("npm token", r"\bnpm_[A-Za-z0-9]{36}\b"),
    ("Hugging Face token", r"\bhf_[A-Za-z0-9]{30,}"),
    ("JSON web token", r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
    ("password in a URL", r"\b[a-z][a-z0-9+.\-]*://[^\s/:@]+:[^\s/@]{3,}@[^\s/]+"),
]
SECRET_RE = [(name, re.compile(pattern)) for name, pattern in SECRET_PATTERNS]
# An assignment like `password = hunter2hunter2` or `api_key: "a8f..."`; prose ("the token expires") has no value.
ASSIGNED_SECRET = re.compile(
    r"(?i)\b(?:password|passwd|pwd|secret|api[_-]?key|access[_-]?key|auth[_-]?token|token|client[_-]?secret)"
    r"\b[\"']?\s*[:=]\s*[\"']?([^\s\"'`]{8,})"
)
PLACEHOLDER = re.compile(r"(?i)^(?:\$\{?\w+\}?|<[^>]*>|\*+|x+|\.+|your[_-].*|changeme|redacted|example.*|none|null|env\b.*)$")


def find_secret(text: str) -> str | None:
    """The kind of secret in ``text``, or None."""
    for name, pattern in SECRET_RE:
        if pattern.search(text):
            return name
    for match in ASSIGNED_SECRET.finditer(text):
        value = match.group(1)
        looks_random = re.search(r"\d", value) and re.search(r"[A-Za-z]", value)
        if looks_random and not PLACEHOLDER.match(value) and not value.startswith(("os.environ", "process.env")):
            return "a password or key assigned in the text"
    return None


# ----- text aimed at the oversight itself -----

_EVADE = r"(?:skip|disable|bypass|avoid|circumvent|evade|fool|trick|deceive|mislead|ignore|turn\s+off|get\s+around|work\s+around|sneak\s+past|never\s+ask|don'?t\s+ask|do\s+not\s+ask|without\s+asking)"
_OVERSIGHT = r"(?:reviewers?|the\s+review|safety\s+(?:review|checks?)|oversight|the\s+gate|approvals?|audit(?:\s+log|\.jsonl)?|human\s+(?:review|approval)|scribe)"
OVERSIGHT_PATTERNS = [
    ("evades the reviewer", re.compile(rf"(?i)\b{_EVADE}\b[^.\n]{{0,40}}\b{_OVERSIGHT}\b")),
    ("evades the reviewer", re.compile(rf"(?i)\b{_OVERSIGHT}\b[^.\n]{{0,20}}\b(?:can|should|must|may)\s+be\s+(?:skipped|bypassed|disabled|ignored|fooled)")),
    ("edits human-owned configuration", re.compile(
        r"(?i)\b(?:edit|modify|change|write|overwrite|rewrite|update|delete|remove|add|append|echo)\b"
        r"[^.\n]{0,40}(?:scribe\.toml|\btasks/|\.scribe/|audit\.jsonl|allow_below|deny_at|on_error)")),
    ("hides what the agent does", re.compile(
        r"(?i)\b(?:hide|conceal|cover\s+up|don'?t\s+(?:tell|mention|log)|do\s+not\s+(?:tell|mention|log)|without\s+telling)\b"
        r"[^.\n]{0,40}\b(?:humans?|users?|reviewers?|operators?|owners?|logs?|audit|what\s+(?:you|it|we)\s+(?:do|did))\b")),
]


def find_oversight_attack(text: str) -> str | None:
    for name, pattern in OVERSIGHT_PATTERNS:
        if pattern.search(text):
            return name
    return None


# ----- invisible and bidirectional characters -----

INVISIBLE = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\U000e0000-\U000e007f]")


def find_invisible(text: str) -> str | None:
    match = INVISIBLE.search(text)
    return f"U+{ord(match.group()):04X}" if match else None


# ----- destructive and exfiltrating commands -----

DESTRUCTIVE = [
    ("deletes the root or home directory", re.compile(
        r"\brm\s+(?:-[-\w]+\s+)*-[a-zA-Z]*[rR][a-zA-Z]*\s+(?:-[-\w]+\s+)*(?:/|/\*|~/?|~/\*|\$HOME/?|\$\{HOME\}/?|\"\$HOME\"/?)(?=\s|$|;|&|\|)")),
    ("formats a file system", re.compile(r"\bmkfs(?:\.\w+)?\b")),
    ("writes onto a block device", re.compile(r"\bdd\b[^|;&\n]*\bof=/dev/(?:sd|hd|vd|xvd|nvme|mmcblk|disk|mapper)")),
    ("pipes a download into a shell", re.compile(
        r"\b(?:curl|wget)\b[^;&\n]*\|\s*(?:sudo\s+)?(?:ba|z|k|da|fi)?sh\b|(?:ba|z)?sh\s+(?:-c\s+)?[\"']?\$\(\s*(?:curl|wget)\b|(?:ba|z)?sh\s+<\(\s*(?:curl|wget)\b")),
    ("fork bomb", re.compile(r":\(\)\s*\{\s*:\s*\|\s*:\s*&\s*\}\s*;\s*:")),
]
CREDENTIAL_FILES = re.compile(r"(?:~|\$HOME|\$\{HOME\}|/root|/home/[^/\s]+)/\.(?:ssh|aws|gnupg)\b|\bid_(?:rsa|ed25519|ecdsa|dsa)\b|\.aws/credentials")
SENDS_OUT = re.compile(r"(?<![./\w-])(?:curl|wget|nc|ncat|netcat|scp|sftp|rsync|ftp|telnet|socat|ssh)\b|/dev/tcp/")
READ_ONLY_COMMANDS = {"cat", "ls", "grep", "egrep", "rg", "head", "tail", "wc", "less", "more", "stat", "file", "diff", "du", "tree", "sort", "uniq", "cut", "echo", "printf", "test", "[", "true", "pwd", "basename", "dirname", "realpath", "md5sum", "sha256sum"}
READ_ONLY_GIT = {"log", "show", "diff", "status", "blame", "ls-files", "rev-parse", "grep"}


def check_shell(command: str, protected: Protected) -> RuleDeny | None:
    for name, pattern in DESTRUCTIVE:
        if pattern.search(command):
            return RuleDeny("destructive-command", f"the command {name}")
    if CREDENTIAL_FILES.search(command) and SENDS_OUT.search(command):
        return RuleDeny("exfiltration", "the command reads credentials (~/.ssh, ~/.aws) and sends data out")
    touched = [w for w in _words(command) if _mentions_protected(w, protected)]
    if touched and not _read_only(command):
        return RuleDeny("protected-path", f"the command may write {touched[0]}; memory changes go only through remember/forget, configuration and tasks only through a human")
    return None


def _words(command: str) -> list[str]:
    try:
        return shlex.split(command, comments=False)
    except ValueError:
        return command.split()


def _mentions_protected(word: str, protected: Protected) -> bool:
    candidate = word.split("=", 1)[-1].lstrip("<>|&;(")
    if not candidate or candidate.startswith("-"):
        return False
    try:
        return protected.covers(protected.resolve(candidate))
    except (OSError, RuntimeError, ValueError):
        return False


def _read_only(command: str) -> bool:
    """Every simple command is a reader and nothing is redirected into a file."""
    if re.search(r"(?<![0-9&])>(?!&)|\btee\b|\bsed\s+-i|\bperl\s+-[a-z]*i", command):
        return False
    for part in re.split(r"\|\||&&|[|;&\n]", command):
        words = _words(part.strip())
        if not words:
            continue
        if words[0] == "git":
            if _git_subcommand(words[1:]) not in READ_ONLY_GIT:
                return False
        elif words[0] == "find":
            if any(w in ("-delete", "-exec", "-execdir", "-fprint", "-ok") for w in words):
                return False
        elif words[0] not in READ_ONLY_COMMANDS:
            return False
    return True


def _git_subcommand(words: list[str]) -> str:
    """The subcommand after git's own options (``-C DIR`` and ``-c KEY=VALUE`` take a value)."""
    rest = iter(words)
    for word in rest:
        if word in ("-C", "-c"):
            next(rest, None)
        elif not word.startswith("-"):
            return word
    return ""


# ----- the rule sets -----


def memory_rules(text: str, max_bytes: int) -> RuleDeny | None:
    """Rules for a note's new text (title, tags and body as they will be stored)."""
    checks: list[tuple[str, Callable[[], str | None], str]] = [
        ("secret-in-note", lambda: find_secret(text), "the note contains a secret ({})"),
        ("oversight-attack", lambda: find_oversight_attack(text), "the note {}; notes may not steer the oversight"),
        ("invisible-characters", lambda: find_invisible(text), "the note contains an invisible or bidirectional control character ({})"),
        ("note-too-large", lambda: _over(text, max_bytes), "the note is {} bytes, over the cap of %d" % max_bytes),
    ]
    for name, check, reason in checks:
        found = check()
        if found:
            return RuleDeny(name, reason.format(found))
    return None


def action_rules(proposal: Proposal, protected: Protected) -> RuleDeny | None:
    args = proposal.args
    if proposal.tool == "shell":
        return check_shell(str(args.get("command", "")), protected)
    if proposal.tool in ("read_file", "write_file"):
        return _check_file_tool(proposal.tool, str(args.get("path", "")), protected)
    if proposal.tool == "http_request":
        return _check_http(args)
    return None


def _check_file_tool(tool: str, raw: str, protected: Protected) -> RuleDeny | None:
    if not raw:
        return RuleDeny("bad-arguments", f"{tool} needs a path")
    target = protected.resolve(raw)
    workdir = protected.workdir.resolve()
    if target != workdir and workdir not in target.parents:
        return RuleDeny("outside-workdir", f"{raw} is outside the working directory {workdir}")
    if tool == "write_file" and protected.covers(target):
        return RuleDeny("protected-path", f"{raw} is protected; memory changes go only through remember/forget, configuration and tasks only through a human")
    return None


def _check_http(args: dict) -> RuleDeny | None:
    payload = f"{args.get('url', '')}\n{args.get('body', '') or ''}"
    secret = find_secret(payload)
    if secret:
        return RuleDeny("exfiltration", f"the request would send a secret ({secret})")
    if CREDENTIAL_FILES.search(payload):
        return RuleDeny("exfiltration", "the request carries credentials from ~/.ssh or ~/.aws")
    return None


def _over(text: str, max_bytes: int) -> str | None:
    size = len(text.encode("utf-8", errors="surrogatepass"))
    return str(size) if size > max_bytes else None


def redact(text: str) -> str:
    """The text with every secret the rules know replaced, for logs and records."""
    for _, pattern in SECRET_RE:
        text = pattern.sub("[REDACTED]", text)
    return ASSIGNED_SECRET.sub(lambda m: m.group(0).replace(m.group(1), "[REDACTED]"), text)
