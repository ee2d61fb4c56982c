"""Show stored message codes in the reader's language (acorn.messages)."""

from django import template

from acorn.messages import message_render, messages_render

register = template.Library()


@register.simple_tag
def message_show(code, params, fallback=""):
    """``{% message_show obj.message_code obj.message_params obj.message %}``"""
    return message_render(code, params, fallback)


@register.filter
def messages_lines(items, fallback=""):
    """``{% for line in obj.reasoning_messages|messages_lines:obj.reasoning %}``"""
    return messages_render(items, fallback)
