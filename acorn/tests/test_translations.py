"""The Simplified Chinese catalogs are complete and compiled."""

import gettext
from pathlib import Path

import polib
import pytest
from django.conf import settings

CATALOGS = sorted(Path(settings.BASE_DIR).glob("**/locale/zh_Hans/LC_MESSAGES/django.po"))
CATALOGS = [path for path in CATALOGS if ".venv" not in path.parts]


def test_catalogs_exist():
    assert any(path.parent.parent.parent.parent == Path(settings.BASE_DIR) for path in CATALOGS)


@pytest.mark.parametrize("po_path", CATALOGS, ids=lambda p: str(p.relative_to(settings.BASE_DIR)))
def test_every_string_is_translated_and_compiled(po_path):
    catalog = polib.pofile(str(po_path))
    untranslated = [entry.msgid for entry in catalog.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalog.fuzzy_entries()]
    assert (untranslated, fuzzy) == ([], [])
    # The committed .mo carries every translation of the .po.
    with open(po_path.with_suffix(".mo"), "rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = [
        entry.msgid
        for entry in catalog.translated_entries()
        if not entry.msgid_plural and compiled.gettext(entry.msgid) != entry.msgstr
    ]
    assert stale == []
