"""Running the git CLI on the memory repository.

Every call disables hooks, so nothing in the repository can run code when
scribe writes. Identity is passed per command, never through os.environ.
"""

from __future__ import annotations

import getpass
import subprocess
from pathlib import Path

from memory.errors import ScribeError

NO_HOOKS = ("-c", "core.hooksPath=/dev/null")


class GitError(ScribeError):
    """git failed; the message carries git's own words."""


def git(repo: Path, *args: str, identity: tuple[str, str] | None = None, input: bytes | None = None, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    who: tuple[str, ...] = ()
    if identity:
        who = ("-c", f"user.name={identity[0]}", "-c", f"user.email={identity[1]}")
    cmd = ["git", *NO_HOOKS, *who, *args]
    try:
        # A session of its own: a Ctrl-C at the terminal must not kill git halfway through a commit.
        done = subprocess.run(cmd, cwd=repo, input=input, capture_output=True, start_new_session=True)
    except FileNotFoundError:
        raise ScribeError("git is not installed or not on PATH; install git") from None
    if check and done.returncode != 0:
        words = done.stderr.decode(errors="replace").strip() or done.stdout.decode(errors="replace").strip()
        raise GitError(f"git {args[0]} failed in {repo}: {words}")
    return done


def text(repo: Path, *args: str) -> str:
    return git(repo, *args).stdout.decode("utf-8", errors="replace")


def parse_identity(value: str) -> tuple[str, str]:
    """Split ``Name <email>`` into its parts, or explain the expected form."""
    name, sep, rest = value.partition("<")
    email = rest.rstrip().removesuffix(">")
    if not sep or not name.strip() or not email or "<" in email or ">" in email:
        raise ScribeError(f"identity {value!r} must look like 'Name <email>'")
    return name.strip(), email.strip()


def human_identity(repo: Path) -> tuple[str, str]:
    """The human's git identity (config or GIT_AUTHOR_*); like git, fall back to the login name."""
    done = git(repo, "-c", "user.useConfigOnly=true", "var", "GIT_AUTHOR_IDENT", check=False)
    if done.returncode == 0:
        ident = done.stdout.decode("utf-8", errors="replace")
        return parse_identity(ident[: ident.rindex(">") + 1])
    user = getpass.getuser()
    return user, f"{user}@localhost"
