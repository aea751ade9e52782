"""The ``git`` CLI, run the same way on every machine.

User and system git config are ignored (no hooks, autocrlf, signing or LFS filters can change what is
stored), and a fixed identity is passed per command so it works where git was never configured.
Commit timestamps stay real.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Optional

from eax_data.release.errors import ReleaseError

IDENTITY = ("-c", "user.name=eax-data", "-c", "user.email=eax-data@users.noreply.huggingface.co")
_FIXED_CONFIG = ("-c", "core.autocrlf=false", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false")
# Environment git reads that would redirect our commands at another repository or index.
_SCRUB = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES",
          "GIT_NAMESPACE", "GIT_CEILING_DIRECTORIES", "GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE")


class GitError(ReleaseError):
    """A git command failed; the message carries its stderr."""


def git(
    *args: str,
    git_dir: Optional[Path] = None,
    work_tree: Optional[Path] = None,
    cwd: Optional[Path] = None,
    env: Optional[dict] = None,
    input: Optional[bytes] = None,
    text: bool = True,
):
    """Run ``git args…`` and return its stdout (str, or bytes with ``text=False``); raise GitError on failure."""
    full_env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
    full_env.update({"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0"})
    full_env.update(env or {})
    cmd = ["git", *IDENTITY, *_FIXED_CONFIG]
    if git_dir is not None:
        cmd.append(f"--git-dir={git_dir}")
    if work_tree is not None:
        cmd.append(f"--work-tree={work_tree}")
    cmd.extend(args)
    try:
        done = subprocess.run(cmd, cwd=cwd, env=full_env, input=input, capture_output=True, check=False)
    except FileNotFoundError:
        raise ReleaseError("the local store needs the `git` command, which is not installed") from None
    if done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip()
        raise GitError(f"git {' '.join(args[:2])} failed ({done.returncode}): {err}")
    return done.stdout.decode("utf-8") if text else done.stdout
