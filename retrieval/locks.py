"""The index's file locks: many readers, one writer, no window between the two."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from retrieval.errors import IndexInUseError


class IndexLock:
    """Advisory file locks: every open index holds `index.lock` shared; a writer holds it
    exclusive, and `index.lock.writer` too, so that no other process can slip in while the
    shared lock is converted (flock conversion drops the old lock before taking the new one).
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        self._writer_fd = os.open(f"{path}.writer", os.O_RDWR | os.O_CREAT, 0o644)
        self._mode = 0

    def acquire(self, exclusive: bool) -> None:
        """Take the shared lock, or the writer's exclusive lock; IndexInUseError if not free."""
        if exclusive and self._mode != fcntl.LOCK_EX:
            self._to_exclusive()
        elif not exclusive and self._mode != fcntl.LOCK_SH:
            if self._mode == fcntl.LOCK_EX:
                self._to_shared()
            else:
                self._flock(self._fd, fcntl.LOCK_SH)
                self._mode = fcntl.LOCK_SH

    def _flock(self, fd: int, mode: int) -> None:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexInUseError(f"{self._path} is locked by another process") from None

    def _to_exclusive(self) -> None:
        self._flock(self._writer_fd, fcntl.LOCK_EX)  # writers queue here, one at a time
        try:
            self._flock(self._fd, fcntl.LOCK_EX)
        except IndexInUseError:
            # The failed conversion may have dropped our shared lock: take it back. Only a
            # holder of the writer lock asks for it exclusively, and that is us, so this
            # cannot block for long.
            if self._mode == fcntl.LOCK_SH:
                fcntl.flock(self._fd, fcntl.LOCK_SH)
            fcntl.flock(self._writer_fd, fcntl.LOCK_UN)
            raise
        self._mode = fcntl.LOCK_EX

    def _to_shared(self) -> None:
        # Still holding the writer lock, nobody can take the exclusive lock in between.
        fcntl.flock(self._fd, fcntl.LOCK_SH)
        fcntl.flock(self._writer_fd, fcntl.LOCK_UN)
        self._mode = fcntl.LOCK_SH

    def release(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        fcntl.flock(self._writer_fd, fcntl.LOCK_UN)
        self._mode = 0

    def close(self) -> None:
        for fd in (self._fd, self._writer_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
