"""Services that run as an unprivileged user even when the stack is started by root (R1).

The interpreter may live where only root can read it (``/root/.pyenv``), so a service starts as
root, imports everything and binds its socket, and only then gives up root for ``user``. The
launcher first hands the service's writable directories to that user and checks that the state
directory can be reached by it at all.
"""

from __future__ import annotations

import os
import pwd
import stat
from pathlib import Path

from reference_stack._errors import StackError

AUTO_USER = "nobody"


def account(user: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(user)
    except KeyError:
        raise StackError(f"--run-as: user {user!r} does not exist on this machine") from None


def unreachable_ancestor(path: Path, user: str) -> Path | None:
    """The first directory on the way to ``path`` that ``user`` may not enter, or None."""
    uid = account(user).pw_uid
    for directory in [*reversed(path.parents), path]:
        if not directory.exists():
            break
        info = directory.stat()
        bit = stat.S_IXUSR if info.st_uid == uid else stat.S_IXOTH
        if not info.st_mode & bit:
            return directory
    return None


def hand_over(directories: list[Path], user: str) -> None:
    """Make ``user`` the owner of ``directories`` and everything in them."""
    entry = account(user)
    for top in directories:
        for root, dirs, files in os.walk(top):
            for name in [root, *(os.path.join(root, d) for d in dirs), *(os.path.join(root, f) for f in files)]:
                os.chown(name, entry.pw_uid, entry.pw_gid)


def drop_to(user: str) -> None:
    """Become ``user`` for good (groups, gid, then uid); a no-op when not root."""
    if os.geteuid() != 0:
        return
    entry = account(user)
    os.setgroups([])
    os.setgid(entry.pw_gid)
    os.setuid(entry.pw_uid)
    os.environ["HOME"] = entry.pw_dir
