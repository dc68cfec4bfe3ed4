"""What every page of the product shares in its views."""

from django.shortcuts import render


class Refused(Exception):
    """This person or device may not open the page, and why: ``status`` is 403 or 404 and
    ``message`` the (translatable) reason the refusal page shows."""

    def __init__(self, status: int, message):
        super().__init__(str(message))
        self.status, self.message = status, message


def refused_page(request, *, screen, message, status: int):
    """The page that says why ``screen`` cannot open, with the way back to the start page."""
    context = {"screen": screen, "message": message, "status": status}
    return render(request, "hall/refused.html", context, status=status)
