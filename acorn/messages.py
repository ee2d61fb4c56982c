"""Messages that services store for people, shown in the reader's language.

A service stores a message *code* and its *parameters* (JSON-safe
values, numbers already formatted) next to the English text; the page
translates when it shows the message, in the language of whoever reads
it. The English text stays for old rows, logs, the API and the audit.

Apps define their codes in their own ``messages`` module (imported from
``AppConfig.ready``), so the kernel imports no app (floors):

    PLAN_NOTE_CANCELLED = message_define("channels.plan.cancelled",
                                         gettext_noop("Cancelled by Amazon."))
    line.plan_note_code, line.plan_note_params, line.plan_note = message_store(
        PLAN_NOTE_CANCELLED)

Templates: ``{% load acorn_messages %}{% message_show code params fallback %}``.
"""

from __future__ import annotations

import logging

from django.utils.translation import gettext

logger = logging.getLogger(__name__)

# Code -> English template with %(name)s placeholders (marked with
# gettext_noop where defined, so makemessages collects it).
_MESSAGES: dict[str, str] = {}

CODE_MAX_LENGTH = 60


def message_define(code: str, template: str) -> str:
    """Register ``code``; returns the code for the writer to store."""
    if len(code) > CODE_MAX_LENGTH:
        raise ValueError(f"Message code {code!r} is longer than {CODE_MAX_LENGTH}.")
    if _MESSAGES.get(code, template) != template:
        raise ValueError(f"Message code {code!r} is defined twice.")
    _MESSAGES[code] = template
    return code


def message_codes() -> dict[str, str]:
    """Every registered code and its English template."""
    return dict(_MESSAGES)


def _fill(template: str, params: dict, translate=None) -> str:
    # A parameter named ``*_label`` holds an English label that is itself
    # translatable (a choice's label, e.g. "Purchase orders"): translated
    # with the message; every other parameter is shown as stored.
    return template % {
        name: translate(value) if translate and name.endswith("_label") else str(value)
        for name, value in (params or {}).items()
    }


def message_english(code: str, **params) -> str:
    """The English text of ``code`` (for the stored fallback and logs)."""
    return _fill(_MESSAGES[code], params)


def message_store(code: str, **params) -> tuple[str, dict, str]:
    """``(code, params, english)`` for a writer to put in its three fields."""
    params = {name: value if isinstance(value, int | float | bool) else str(value)
              for name, value in params.items()}
    return code, params, message_english(code, **params)


def message_render(code: str, params: dict | None, fallback: str = "") -> str:
    """``code`` in the active language; ``fallback`` for a row without a
    code (written before codes existed) or whose code or parameters no
    longer fit (a renamed code must not break a page)."""
    template = _MESSAGES.get(code or "")
    if template is None:
        return fallback
    try:
        return _fill(gettext(template), params or {}, translate=gettext)
    except (KeyError, TypeError, ValueError):
        logger.warning("Message %s does not fit its parameters %r", code, params)
        return fallback


def messages_render(items: list | None, fallback: str = "") -> list[str]:
    """A list of ``{"code", "params"}`` (e.g. a plan's reasoning lines), each
    rendered; ``fallback`` split into lines when there is no list."""
    if not items:
        return [line for line in fallback.splitlines() if line]
    return [message_render(item.get("code", ""), item.get("params"), "") for item in items]
