"""A monotonic clock a test moves by hand (monkeypatch it over ``time.monotonic``)."""


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now
