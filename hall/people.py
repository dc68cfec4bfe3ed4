"""How a person is named on the hall's screens and reports: the one copy."""


def display_name(user) -> str:
    """The user's full name, else their username; "" for nobody."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()
