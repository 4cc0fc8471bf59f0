"""Writing a file so that a crash never leaves it half-written: temporary file, fsync, rename.

What the user pointed at is kept: a symlink stays a link and its target is written (atomically,
next to the target); a device, FIFO or other non-regular file is written through in place
(a rename would replace it with a regular file); a directory is refused. An existing file's
permission bits carry over to the new one. Temporary files left by a save that was killed
(SIGKILL, power loss) are removed by the next save to the same path.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
import time
from pathlib import Path

__all__ = ["write_atomically"]

# a temporary file from a process that may still be writing it is left alone; one without a
# process id (older versions) counts as abandoned after this many seconds
_ANONYMOUS_TEMPORARY_AGE = 600.0


def write_atomically(path: Path, payload: bytes) -> None:
    """Write `payload` to `path` (through a symlink to its target) so that readers see the
    old file or the new one, never a mix. Raises IsADirectoryError for a directory."""
    target = Path(os.path.realpath(path)) if Path(path).is_symlink() else Path(path)
    try:
        status = os.stat(target)
    except FileNotFoundError:
        status = None
    if status is not None and stat.S_ISDIR(status.st_mode):
        raise IsADirectoryError(f"cannot write {path}: it is a directory; give a file name "
                                f"inside it")
    if status is not None and not stat.S_ISREG(status.st_mode):
        _write_through(target, payload)  # /dev/null, a FIFO, a terminal: no rename possible
        return
    directory = target.parent
    if not directory.is_dir():
        raise FileNotFoundError(f"cannot write {path}: directory {directory} does not exist")
    _remove_abandoned_temporaries(target)
    temporary = directory / f".{target.name}.{os.getpid()}-{secrets.token_hex(6)}.tmp"
    mode = 0o666 if status is None else stat.S_IMODE(status.st_mode)
    # os.open's mode is filtered by the umask, as a plain open() would be; an existing file's
    # bits are then copied exactly
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(handle, "wb") as file:
            if status is not None:
                os.chmod(file.fileno(), mode)
            file.write(payload)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        if temporary.exists():
            temporary.unlink()
        raise
    _fsync_directory(directory)


def _write_through(target: Path, payload: bytes) -> None:
    """Write into an existing non-regular file in place (not atomic: it cannot be)."""
    with open(target, "wb") as file:
        file.write(payload)
        file.flush()


def _remove_abandoned_temporaries(target: Path) -> None:
    """Delete `.NAME.PID-TOKEN.tmp` files whose writing process is gone (and old
    `.NAME.TOKEN.tmp` files of earlier versions); a live writer's file is left alone."""
    pattern = re.compile(re.escape(f".{target.name}.") + r"(?:(\d+)-)?[0-9a-f]{12}\.tmp")
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match is None or not entry.is_file(follow_symlinks=False):
            continue
        if match.group(1) is not None:
            if _process_alive(int(match.group(1))):
                continue
        else:
            try:
                if time.time() - entry.stat(follow_symlinks=False).st_mtime < \
                        _ANONYMOUS_TEMPORARY_AGE:
                    continue
            except OSError:
                continue
        try:
            os.unlink(entry.path)
        except OSError:
            pass  # another save removed it first, or the directory is read-only


def _process_alive(pid: int) -> bool:
    """True when a process with this id exists (ours included)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists, owned by someone else (or cannot tell: keep the file)
    return True


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        handle = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)
