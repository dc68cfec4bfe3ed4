"""The embedded default's database backend: Django's SQLite with writers queued fairly (base.py)."""
