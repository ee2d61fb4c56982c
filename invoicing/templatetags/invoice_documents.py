"""Template helpers for the invoice documents block (_invoice_documents.html)."""

from django import template

from invoicing.models import DocumentLanguage

register = template.Library()


@register.simple_tag
def document_languages():
    """(code, name) of every language an invoice can be printed in."""
    return DocumentLanguage.choices


@register.simple_tag
def invoice_renderings(invoice):
    """The invoice's renderings by language (one query)."""
    return list(invoice.renderings.order_by("language"))
