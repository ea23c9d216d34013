"""Data at rest: the data folder (SQLite files, embedded Redis AOF, admin token) is private."""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_UMASK = 0o077


def protect_data_dir(data_dir: Path) -> None:
    """Creates files 0600 and folders 0700 from now on; tightens what is already there."""
    os.umask(PRIVATE_UMASK)  # SQLite, its journals and redis-server (a child) inherit it
    data_dir.mkdir(parents=True, exist_ok=True)
    for path in [data_dir, *data_dir.rglob("*")]:
        try:
            mode = stat.S_IMODE(path.lstat().st_mode)
            if path.is_symlink():
                continue
            wanted = 0o700 if path.is_dir() else 0o600
            if mode & 0o077:
                path.chmod(mode & ~0o077 | (wanted & 0o700))
        except OSError:  # a file another process is replacing; the umask covers its successor
            continue
