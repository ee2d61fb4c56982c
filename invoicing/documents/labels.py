"""The printed labels of invoice documents in each document language.

A label table, not gettext: the language of a legal document is the
tenant's choice per document (German for a German buyer, French for a
French one), independent of the dashboard language (en / zh-Hans). Keeping
de/fr out of the UI catalogs means the dashboard is never half-translated
into German, and one table makes it easy to review the wording of a legal
document per language and to test that every language has every label.
Money and numbers are written in the language's conventions and the
currency's precision.
"""

from __future__ import annotations

from decimal import Decimal

from acorn.money import currency_exponent

DOCUMENT_LANGUAGES = ("en", "zh-Hans", "de", "fr")
LANGUAGE_NAMES = {"en": "English", "zh-Hans": "简体中文", "de": "Deutsch", "fr": "Français"}

LABELS: dict[str, dict[str, str]] = {
    "invoice": {"en": "Invoice", "zh-Hans": "发票", "de": "Rechnung", "fr": "Facture"},
    "credit_note": {"en": "Credit note", "zh-Hans": "贷项通知单", "de": "Gutschrift",
                    "fr": "Avoir"},
    "number": {"en": "Number", "zh-Hans": "编号", "de": "Nummer", "fr": "Numéro"},
    "issue_date": {"en": "Date", "zh-Hans": "开票日期", "de": "Rechnungsdatum",
                   "fr": "Date"},
    "delivery_date": {"en": "Delivery date", "zh-Hans": "交货日期", "de": "Lieferdatum",
                      "fr": "Date de livraison"},
    "due_date": {"en": "Due date", "zh-Hans": "付款到期日", "de": "Fällig am",
                 "fr": "Date d'échéance"},
    "purchase_order": {"en": "Purchase order", "zh-Hans": "采购订单", "de": "Bestellnummer",
                       "fr": "Bon de commande"},
    "original_invoice": {"en": "Corrects invoice", "zh-Hans": "更正发票",
                         "de": "Korrektur zu Rechnung", "fr": "Rectifie la facture"},
    "seller": {"en": "Seller", "zh-Hans": "卖方", "de": "Verkäufer", "fr": "Vendeur"},
    "buyer": {"en": "Bill to", "zh-Hans": "买方", "de": "Rechnungsempfänger",
              "fr": "Facturé à"},
    "ship_to": {"en": "Ship to", "zh-Hans": "收货方", "de": "Lieferanschrift",
                "fr": "Livré à"},
    "vat_number": {"en": "VAT number", "zh-Hans": "增值税号", "de": "USt-IdNr.",
                   "fr": "N° TVA"},
    "tax_number": {"en": "Tax number", "zh-Hans": "税号", "de": "Steuernummer",
                   "fr": "N° fiscal"},
    "registration": {"en": "Company number", "zh-Hans": "注册号", "de": "Handelsregister",
                     "fr": "N° d'immatriculation"},
    "line": {"en": "#", "zh-Hans": "序号", "de": "Pos.", "fr": "N°"},
    "item": {"en": "Item", "zh-Hans": "商品", "de": "Artikel", "fr": "Article"},
    "asin": {"en": "ASIN", "zh-Hans": "ASIN", "de": "ASIN", "fr": "ASIN"},
    "sku": {"en": "SKU", "zh-Hans": "SKU", "de": "Art.-Nr.", "fr": "Réf."},
    "gtin": {"en": "GTIN", "zh-Hans": "GTIN", "de": "GTIN", "fr": "GTIN"},
    "lot": {"en": "Lot", "zh-Hans": "批号", "de": "Charge", "fr": "Lot"},
    "origin": {"en": "Origin", "zh-Hans": "原产地", "de": "Ursprung", "fr": "Origine"},
    "quantity": {"en": "Qty", "zh-Hans": "数量", "de": "Menge", "fr": "Qté"},
    "unit_price": {"en": "Unit price", "zh-Hans": "单价", "de": "Einzelpreis",
                   "fr": "Prix unitaire"},
    "vat": {"en": "VAT", "zh-Hans": "增值税", "de": "USt.", "fr": "TVA"},
    "amount": {"en": "Net amount", "zh-Hans": "净额", "de": "Nettobetrag",
               "fr": "Montant HT"},
    "allowance": {"en": "Allowance", "zh-Hans": "折让", "de": "Nachlass", "fr": "Remise"},
    "charge": {"en": "Charge", "zh-Hans": "附加费用", "de": "Zuschlag", "fr": "Frais"},
    "line_total": {"en": "Sum of lines", "zh-Hans": "行合计", "de": "Summe Positionen",
                   "fr": "Total des lignes"},
    "tax_exclusive": {"en": "Total excl. VAT", "zh-Hans": "不含税合计", "de": "Gesamt netto",
                      "fr": "Total HT"},
    "tax_total": {"en": "VAT total", "zh-Hans": "税额合计", "de": "Umsatzsteuer",
                  "fr": "Total TVA"},
    "tax_inclusive": {"en": "Total incl. VAT", "zh-Hans": "含税合计", "de": "Gesamt brutto",
                      "fr": "Total TTC"},
    "amount_due": {"en": "Amount due", "zh-Hans": "应付金额", "de": "Zahlbetrag",
                   "fr": "Net à payer"},
    "tax_breakdown": {"en": "VAT breakdown", "zh-Hans": "税额明细", "de": "USt.-Aufstellung",
                      "fr": "Détail de la TVA"},
    "category": {"en": "Category", "zh-Hans": "类别", "de": "Kategorie", "fr": "Catégorie"},
    "rate": {"en": "Rate", "zh-Hans": "税率", "de": "Satz", "fr": "Taux"},
    "taxable": {"en": "Taxable amount", "zh-Hans": "计税金额", "de": "Bemessungsgrundlage",
                "fr": "Base HT"},
    "exemption": {"en": "Exemption", "zh-Hans": "免税理由", "de": "Befreiungsgrund",
                  "fr": "Motif d'exonération"},
    "payment_terms": {"en": "Payment terms", "zh-Hans": "付款条件", "de": "Zahlungsbedingungen",
                      "fr": "Conditions de paiement"},
    "bank": {"en": "Bank", "zh-Hans": "开户银行", "de": "Bank", "fr": "Banque"},
    "iban": {"en": "IBAN", "zh-Hans": "IBAN", "de": "IBAN", "fr": "IBAN"},
    "bic": {"en": "BIC", "zh-Hans": "BIC", "de": "BIC", "fr": "BIC"},
    "note": {"en": "Note", "zh-Hans": "备注", "de": "Hinweis", "fr": "Remarque"},
    "page": {"en": "Page", "zh-Hans": "页", "de": "Seite", "fr": "Page"},
    "of": {"en": "of", "zh-Hans": "/", "de": "von", "fr": "sur"},
    "embedded_xml": {
        "en": "This PDF/A-3 carries the EN 16931 invoice data as factur-x.xml.",
        "zh-Hans": "本 PDF/A-3 内嵌 EN 16931 电子发票数据（factur-x.xml）。",
        "de": "Dieses PDF/A-3 enthält die EN-16931-Rechnungsdaten als factur-x.xml.",
        "fr": "Ce PDF/A-3 contient les données de facture EN 16931 (factur-x.xml).",
    },
    "unit_Eaches": {"en": "pcs", "zh-Hans": "件", "de": "Stk.", "fr": "pce"},
    "unit_Cases": {"en": "cases", "zh-Hans": "箱", "de": "Kartons", "fr": "cartons"},
    "category_S": {"en": "Standard rate", "zh-Hans": "标准税率", "de": "Regelsteuersatz",
                   "fr": "Taux normal"},
    "category_Z": {"en": "Zero rated", "zh-Hans": "零税率", "de": "Nullsatz",
                   "fr": "Taux zéro"},
    "category_E": {"en": "Exempt", "zh-Hans": "免税", "de": "Steuerbefreit", "fr": "Exonéré"},
    "category_AE": {"en": "Reverse charge", "zh-Hans": "反向征收",
                    "de": "Steuerschuldnerschaft des Leistungsempfängers",
                    "fr": "Autoliquidation"},
    "category_K": {"en": "Intra-community supply", "zh-Hans": "欧盟内部供货",
                   "de": "Innergemeinschaftliche Lieferung",
                   "fr": "Livraison intracommunautaire"},
    "category_G": {"en": "Export outside the EU", "zh-Hans": "欧盟以外出口",
                   "de": "Ausfuhrlieferung", "fr": "Exportation hors UE"},
    "category_O": {"en": "Not subject to VAT", "zh-Hans": "不属于增值税征税范围",
                   "de": "Nicht steuerbar", "fr": "Hors champ de la TVA"},
}

# (thousands separator, decimal separator) per document language.
NUMBER_FORMAT = {"en": (",", "."), "zh-Hans": (",", "."), "de": (".", ","),
                 "fr": ("\u202f", ",")}


def labels_for(language: str) -> dict[str, str]:
    if language not in DOCUMENT_LANGUAGES:
        raise ValueError(f"Unknown document language {language!r}.")
    return {key: texts[language] for key, texts in LABELS.items()}


def number_format(value: Decimal, places: int, language: str) -> str:
    thousands, decimal_point = NUMBER_FORMAT[language]
    quantized = value.quantize(Decimal(1).scaleb(-places)) if places >= 0 else value
    sign = "-" if quantized < 0 else ""
    whole, _dot, fraction = f"{abs(quantized):f}".partition(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    text = thousands.join(groups)
    return f"{sign}{text}{decimal_point}{fraction}" if fraction else f"{sign}{text}"


def money_format(value: Decimal, currency: str, language: str) -> str:
    """An amount in the currency's precision (JPY 0, EUR 2, KWD 3 decimals)."""
    return f"{number_format(value, currency_exponent(currency), language)} {currency}"


def price_format(value: Decimal, currency: str, language: str) -> str:
    """A unit price: at least the currency's precision, more if the record has it."""
    exponent = max(currency_exponent(currency), -value.normalize().as_tuple().exponent)
    return f"{number_format(value, min(exponent, 4), language)} {currency}"
