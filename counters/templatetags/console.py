"""Template helpers of the clerk console."""

from django import template

from hall.i18n import localized_name

register = template.Library()


@register.filter
def local_name(business_type) -> str:
    """A business type's name in the current language (the model holds both)."""
    return "" if business_type is None else localized_name(business_type)
