"""EDIFACT REMADV (remittance advice), read with pydifact.

pydifact (PyPI, maintained, MIT) tokenises the interchange (UNA service
characters, release characters, composites); this module reads the REMADV
segments into the normalised records:

    UNH ... REMADV        message start     UNT  message end
    BGM 481 + number      the advice's number (the payment number)
    DTM 137/202/209       document / posting / value date
    MOA 9 (amount due/payable) at header level: the payment amount
    CUX 2:<currency>      currency          NAD PR/PE  payer / payee
    RFF                   header references (e.g. PQ payment reference)
    DOC <1001 code> + number   one document line: 380 invoice, 381 credit
                          note, 383 debit note, 481 ... (code kept as type)
    MOA 12 (amount remitted), 39 (invoice total), 52 (discount) per DOC
    DTM 137 under a DOC   the invoice date   RFF ON under a DOC: the PO
    AJT <reason> + MOA    an adjustment under a DOC: recorded on the line
"""

from __future__ import annotations

import warnings
from decimal import Decimal, InvalidOperation

from reconciliation.parsers import bounds
from reconciliation.parsers.records import (
    LineRecord,
    ParseResult,
    PaymentRecord,
    RemittanceParseError,
    RowError,
)
from reconciliation.parsers.values import ValueError_, date_parse, text_decode


def _parts(element) -> list[str]:
    if isinstance(element, list):
        return [str(e) for e in element]
    return [str(element)] if element is not None else []


def _amount(value: str) -> Decimal:
    try:
        result = Decimal(value.replace(",", "."))
    except InvalidOperation as exc:
        raise ValueError_("not_a_number") from exc
    if not result.is_finite() or abs(result) > Decimal("99999999999999"):
        raise ValueError_("out_of_range")
    return result


def _date(parts: list[str]):
    value = parts[1] if len(parts) > 1 else ""
    fmt = parts[2] if len(parts) > 2 else "102"
    if fmt == "203":  # CCYYMMDDHHMM
        value = value[:8]
    return date_parse(value)


def edifact_parse(data: bytes, *, currency_default: str = "") -> ParseResult:
    from pydifact.segmentcollection import Interchange

    text = text_decode(data).strip()
    if not text.startswith(("UNA", "UNB")):
        raise RemittanceParseError("not_edifact", "The file does not start with UNA or UNB.")
    try:
        with warnings.catch_warnings():
            # pydifact warns that it has no segment directory for validation;
            # we validate the REMADV segments we read ourselves.
            warnings.simplefilter("ignore")
            interchange = Interchange.from_str(text)
            messages = list(interchange.get_messages())
    except Exception as exc:  # pydifact raises bare EDISyntaxError/ValueError/IndexError
        raise RemittanceParseError(
            "edifact_syntax", "The EDIFACT interchange is malformed.") from exc
    result = ParseResult()
    position = 0
    for message in messages:
        if str(getattr(message, "type", "")).upper() != "REMADV":
            continue
        payment = PaymentRecord(payment_number="", currency=currency_default)
        line: LineRecord | None = None
        for segment in message.segments:
            position += 1
            tag = segment.tag
            elements = segment.elements
            try:
                if tag == "BGM":
                    number = _parts(elements[1])[0] if len(elements) > 1 else ""
                    payment.payment_number = number[:64]
                elif tag == "CUX":
                    parts = _parts(elements[0]) if elements else []
                    if len(parts) > 1:
                        payment.currency = parts[1].upper()[:3]
                elif tag == "NAD":
                    qualifier = _parts(elements[0])[0] if elements else ""
                    name = " ".join(_parts(elements[3]))[:200] if len(elements) > 3 else ""
                    if not name and len(elements) > 1:
                        name = _parts(elements[1])[0][:200]
                    if qualifier == "PR":
                        payment.payer_name = name
                    elif qualifier == "PE":
                        payment.payee_name = name
                elif tag == "DTM":
                    parts = _parts(elements[0])
                    if line is not None and parts[0] in ("137", "3"):
                        line.invoice_date = _date(parts)
                    elif line is None and parts[0] in ("137", "202", "209"):
                        if parts[0] != "137" or payment.payment_date is None:
                            payment.payment_date = _date(parts)
                elif tag == "RFF":
                    parts = _parts(elements[0])
                    if line is not None and parts[0] == "ON" and len(parts) > 1:
                        line.purchase_order_number = parts[1][:40]
                    elif line is None and parts[0] in ("PQ", "ACK") and len(parts) > 1:
                        payment.external_id = parts[1][:80]
                elif tag == "DOC":
                    result.rows += 1
                    code = _parts(elements[0])[0] if elements else ""
                    number = (_parts(elements[1])[0] if len(elements) > 1 else "")[:120]
                    if not number:
                        result.errors.append(RowError(position, "DOC", "required",
                                                      "DOC has no document number."))
                        line = None
                        continue
                    line = LineRecord(source_line=position, invoice_number=number,
                                      amount_paid=Decimal("0"), currency=payment.currency,
                                      type_code=code[:40])
                    payment.lines.append(line)
                elif tag == "AJT" and line is not None:
                    reason = _parts(elements[0])[0][:20] if elements else ""
                    line.extra["adjustment_reason"] = reason
                elif tag == "MOA":
                    parts = _parts(elements[0])
                    qualifier, amount = parts[0], _amount(parts[1])
                    if line is None and qualifier == "9":
                        payment.declared_amount = amount
                    elif line is not None and qualifier == "12":
                        line.amount_paid = amount
                    elif line is not None and qualifier == "39":
                        line.gross_amount = amount
                    elif line is not None and qualifier == "52":
                        line.discount_taken = amount
                    elif line is not None:
                        line.extra[f"moa_{qualifier[:3]}"] = str(amount)
            except (ValueError_, IndexError):
                result.errors.append(RowError(position, tag, "invalid",
                                              f"Segment {tag} has a value that is not valid."))
            if len(result.errors) >= bounds.MAX_ERRORS:
                break
        if not payment.payment_number:
            result.errors.append(RowError(None, "BGM", "required", "REMADV without a BGM number."))
            continue
        if len(payment.currency) != 3:
            result.errors.append(RowError(None, "CUX", "required",
                                          "No currency (CUX segment or the account's)."))
            continue
        for doc_line in payment.lines:
            doc_line.currency = payment.currency
        result.payments.append(payment)
    if not result.payments and not result.errors:
        raise RemittanceParseError("no_remadv", "The interchange holds no REMADV message.")
    return result

