"""Django's SQLite backend, with writers queued on a kernel file lock before ``BEGIN IMMEDIATE``.

Why: SQLite's busy handler polls, sleeping 1, 2, 5 ... then 100 ms between tries, so a writer that
has waited a while wakes ten times a second and nearly always finds the lock taken again by a
process that just committed and began anew. Under several processes some writers starved: the
multi-process hammer (tests/queueing/test_concurrency_sqlite.py: 4 clerks + 2 kiosks, each its
own process) measured single call-next waits of 10 to 16 s, and 13 s with 8 clerks + 4 kiosks,
against the 20 s busy timeout after which SQLite reports "database is locked". A blocked
``flock`` sleeps in the kernel and is woken the moment the holder releases, so writers take
turns: the same runs peaked at 0.4 s and 1.7 s, at the same throughput.

Every ``atomic`` block already starts a write transaction (IMMEDIATE), so taking the lock there
changes who may write, not what; the lock is released on commit, rollback and close, and by the
kernel if the process dies. Like a PostgreSQL row lock it is waited for without a timeout; a
transaction cannot stay open forever without already stopping every other writer. Writes outside
``atomic`` (single autocommit statements) and other programs still meet SQLite's busy timeout.
In-memory databases (the test suite's) have one connection and need no queue.
"""

import fcntl
import os

from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    _writer_lock_fd: int | None = None

    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        self._close_writer_lock()
        if not self.is_in_memory_db():
            # One open file per connection: flock excludes other open files, so threads with
            # their own connections queue too, not only processes.
            self._writer_lock_fd = os.open(
                f"{self.settings_dict['NAME']}-writer", os.O_RDWR | os.O_CREAT, 0o600
            )
        return connection

    def _start_transaction_under_autocommit(self):
        if self._writer_lock_fd is not None:
            fcntl.flock(self._writer_lock_fd, fcntl.LOCK_EX)
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_writer_lock()
            raise

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._release_writer_lock()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._release_writer_lock()

    def _close(self):
        try:
            return super()._close()
        finally:
            self._close_writer_lock()

    def _release_writer_lock(self):
        if self._writer_lock_fd is not None:
            fcntl.flock(self._writer_lock_fd, fcntl.LOCK_UN)

    def _close_writer_lock(self):
        if self._writer_lock_fd is not None:
            os.close(self._writer_lock_fd)  # closing releases the lock too
            self._writer_lock_fd = None
