"""Language helpers: text that lives in the database in both languages (name_zh, name_en), and
labels (lazy strings, choices) rendered in both languages at once. The one copy of each."""

from django.utils import translation


def in_english() -> bool:
    """Is the active language English? Chinese (zh-hans) is the default for everything else."""
    return (translation.get_language() or "").startswith("en")


def localized_name(business_type) -> str:
    """The business type's name in the active language, e.g. for a message or a page."""
    return business_type.name_en if in_english() else business_type.name_zh


# The languages of the screens customers face (displays, rating pad), and of the texts stored for
# managers in both: Chinese first.
SIGN_LANGUAGES = ("zh-hans", "en")


def in_both_languages(text) -> dict:
    """A lazy string (or a callable returning one, e.g. ``get_kind_display``) in each language:
    ``{"zh": ..., "en": ...}``."""
    result = {}
    for language in SIGN_LANGUAGES:
        with translation.override(language):
            result[language.split("-")[0]] = str(text() if callable(text) else text)
    return result


def label_in_both(text) -> str:
    """Both languages in one line, e.g. "网络 network" (once when they are the same)."""
    both = in_both_languages(text)
    return both["zh"] if both["zh"] == both["en"] else f"{both['zh']} {both['en']}"
