"""Messages services store as a code and parameters are shown in the
reader's language (issue 8, part 4): every registered code renders in
Simplified Chinese with its parameters, and pages show it so."""

import re

import pytest
from django.urls import reverse
from django.utils import translation

from acorn.messages import message_codes, message_render, message_store, messages_render
from acorn.models import Role

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _sample_params(template: str) -> dict:
    # *_label parameters hold a translatable label (a choice's English label).
    return {name: "Purchase orders" if name.endswith("_label") else f"P-{name}-7"
            for name in PLACEHOLDER.findall(template)}


def test_the_registry_holds_the_apps_codes():
    codes = message_codes()
    assert {"channels.exception.unmapped_line", "channels.plan.available",
            "inventory.plan.position"} <= set(codes)
    assert len(codes) >= 25


@pytest.mark.parametrize("code", sorted(message_codes()))
def test_every_message_code_renders_in_simplified_chinese(code):
    template = message_codes()[code]
    params = _sample_params(template)
    english = message_store(code, **params)[2]
    with translation.override("zh-hans"):
        shown = message_render(code, params, fallback="FALLBACK")
    assert shown != english and shown != "FALLBACK"
    assert re.search(r"[\u4e00-\u9fff]", shown), shown
    for name, value in params.items():
        expected = "采购订单" if name.endswith("_label") else value
        assert expected in shown, (code, name, shown)
    assert "%(" not in shown


def test_a_row_without_a_code_or_with_stale_params_shows_its_english_text():
    assert message_render("", {}, "Old English text.") == "Old English text."
    assert message_render("no.such.code", {}, "Old") == "Old"
    assert message_render("channels.plan.inactive", {"wrong": 1}, "Old") == "Old"
    assert messages_render([], "line one\nline two") == ["line one", "line two"]


@pytest.mark.django_db
def test_the_work_queue_shows_an_exception_in_the_readers_language(member_client, tenant_a):
    from acorn.tenancy import tenant_scope
    from channels.message_codes import UNMAPPED_LINE
    from channels.services.exceptions import channel_exception_open

    with tenant_scope(tenant_a):
        exception, _ = channel_exception_open(
            tenant=tenant_a, account=None, kind="unmapped_line", subject_key="po:1/line:1",
            code=UNMAPPED_LINE, params={"po": "8XQ2", "line": "1", "asin": "B000000001",
                                        "vendor_product": "SKU-1"})
    assert exception.message == (
        "PO 8XQ2 line 1: no SKU mapping for ASIN B000000001 / vendor product SKU-1.")
    client = member_client(tenant_a, Role.OPERATIONS)
    url = reverse("channels:exception_list", args=[tenant_a.slug])
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert exception.message in english
    client.cookies["django_language"] = "zh-hans"
    chinese = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "采购订单 8XQ2 第 1 行" in chinese and exception.message not in chinese
