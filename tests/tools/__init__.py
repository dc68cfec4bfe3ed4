"""Tools the tests run as separate processes (the concurrency hammer) and their checks."""
