"""What every page of the product shares in its views."""


class Refused(Exception):
    """This person or device may not open the page, and why: ``status`` is 403 or 404 and
    ``message`` the (translatable) reason the refusal page shows."""

    def __init__(self, status: int, message):
        super().__init__(str(message))
        self.status, self.message = status, message
