"""Language helpers for text that lives in the database in both languages (name_zh, name_en)."""

from django.utils import translation


def in_english() -> bool:
    """Is the active language English? Chinese (zh-hans) is the default for everything else."""
    return (translation.get_language() or "").startswith("en")


def localized_name(business_type) -> str:
    """The business type's name in the active language, e.g. for a message or a page."""
    return business_type.name_en if in_english() else business_type.name_zh
