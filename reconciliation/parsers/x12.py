"""X12 820 (Payment Order / Remittance Advice), the segments it uses.

Evaluated: pyx12 4.0 validates against HIPAA maps (the 820 it knows is the
health-plan premium payment, 005010X218), badx12 was last released in 2018;
neither reads a retail 820 as Amazon sends it without a map of our own, so
this is a small reader of exactly these segments (X12 005010 820):

    ISA  interchange (separators from fixed positions)   GS/GE  group
    ST   820 start   SE  end
    BPR  02 payment amount, 01 handling code, 16 payment effective date
    TRN  02 trace number (the payment / remittance number)
    CUR  02 currency            DTM  097 / 234 / 003 dates
    N1   PR payer / PE payee    ENT  remittance entity loop
    RMR  01 ref qualifier (IV invoice, CR credit memo, ...), 02 number,
         04 amount paid, 05 invoice amount, 06 discount taken
    REF  PO (purchase order) under an RMR    DTM 003 invoice date under an RMR
    ADX  01 adjustment amount, 02 reason code, 03/04 reference: its own
         line when not under an RMR, else recorded on that RMR's line
"""

from __future__ import annotations

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


def segments_split(text: str) -> list[list[str]]:
    text = text.lstrip("\ufeff \r\n\t")
    if not text.startswith("ISA") or len(text) < 106:
        raise RemittanceParseError("not_x12", "The file does not start with an ISA segment.")
    element_sep = text[3]
    segment_end = text[105]
    component_sep = text[104]
    if element_sep.isalnum() or segment_end.isalnum():
        raise RemittanceParseError("not_x12", "The ISA segment's separators are not readable.")
    segments = []
    for raw in text.split(segment_end):
        raw = raw.strip("\r\n ")
        if not raw:
            continue
        elements = raw.split(element_sep)
        if component_sep and component_sep != element_sep:
            elements = [e.split(component_sep)[0] if elements[0] != "ISA" else e
                        for e in elements]
        segments.append(elements)
        if len(segments) > bounds.MAX_ROWS * 4:
            raise RemittanceParseError("too_many_rows", "Too many segments.")
    return segments


def _el(segment: list[str], index: int) -> str:
    return segment[index].strip() if len(segment) > index else ""


def _amount(value: str) -> Decimal:
    try:
        result = Decimal(value)
    except InvalidOperation as exc:
        raise ValueError_("not_a_number") from exc
    if not result.is_finite() or abs(result) > Decimal("99999999999999"):
        raise ValueError_("out_of_range")
    return result


def x12_parse(data: bytes, *, currency_default: str = "") -> ParseResult:
    segments = segments_split(text_decode(data))
    result = ParseResult()
    payment: PaymentRecord | None = None
    line: LineRecord | None = None
    for position, segment in enumerate(segments, 1):
        tag = segment[0].upper()
        try:
            if tag == "ST":
                if _el(segment, 1) != "820":
                    raise RemittanceParseError("not_820", "The transaction set is not an 820.")
                payment = PaymentRecord(payment_number="", currency=currency_default)
                line = None
            elif payment is None:
                continue
            elif tag == "BPR":
                payment.declared_amount = _amount(_el(segment, 2))
                if _el(segment, 3) == "D":
                    payment.declared_amount = -payment.declared_amount
                if date_text := _el(segment, 16):
                    payment.payment_date = date_parse(date_text)
            elif tag == "TRN":
                payment.payment_number = _el(segment, 2)[:64]
                payment.external_id = _el(segment, 3)[:80]
            elif tag == "CUR":
                payment.currency = _el(segment, 2).upper()[:3]
            elif tag == "N1":
                if _el(segment, 1) == "PR":
                    payment.payer_name = _el(segment, 2)[:200]
                elif _el(segment, 1) == "PE":
                    payment.payee_name = _el(segment, 2)[:200]
            elif tag == "DTM":
                qualifier, value = _el(segment, 1), _el(segment, 2)
                if line is not None and qualifier in ("003", "004"):
                    line.invoice_date = date_parse(value)
                elif (line is None and qualifier in ("097", "234", "009")
                      and not payment.payment_date):
                    payment.payment_date = date_parse(value)
            elif tag == "ENT":
                line = None
            elif tag == "RMR":
                result.rows += 1
                number = _el(segment, 2)[:120]
                if not number:
                    result.errors.append(RowError(position, "RMR02", "required",
                                                  "RMR02 (the invoice number) is empty."))
                    line = None
                    continue
                line = LineRecord(
                    source_line=position, invoice_number=number,
                    amount_paid=_amount(_el(segment, 4) or "0"),
                    currency=payment.currency, type_code=_el(segment, 1)[:40],
                    gross_amount=_amount(_el(segment, 5)) if _el(segment, 5) else None,
                    discount_taken=_amount(_el(segment, 6)) if _el(segment, 6) else Decimal("0"),
                )
                payment.lines.append(line)
            elif tag == "REF" and line is not None:
                if _el(segment, 1) == "PO":
                    line.purchase_order_number = _el(segment, 2)[:40]
                else:
                    line.extra[f"ref_{_el(segment, 1)[:3]}"] = _el(segment, 2)[:80]
            elif tag == "ADX":
                amount = _amount(_el(segment, 1))
                reason = _el(segment, 2)[:40]
                reference = _el(segment, 4)[:120] or _el(segment, 3)[:120]
                if line is not None:
                    adjustments = line.extra.get("adjustments", "")
                    line.extra["adjustments"] = (adjustments + f" {reason}:{amount}").strip()[:300]
                else:
                    result.rows += 1
                    payment.lines.append(LineRecord(
                        source_line=position, invoice_number=reference or reason,
                        amount_paid=amount, currency=payment.currency, type_code=reason,
                        description=f"ADX {reason}",
                    ))
            elif tag == "SE":
                _payment_finish(payment, position, result)
                payment, line = None, None
        except ValueError_ as exc:
            result.errors.append(RowError(position, tag, exc.code,
                                          f"Segment {tag} has a value that is not valid."))
        if len(result.errors) >= bounds.MAX_ERRORS:
            break
    if payment is not None:
        result.errors.append(RowError(None, "SE", "truncated", "The 820 has no SE segment."))
    return result


def _payment_finish(payment: PaymentRecord, position: int, result: ParseResult) -> None:
    if not payment.payment_number:
        result.errors.append(RowError(position, "TRN02", "required",
                                      "The 820 has no TRN trace (payment) number."))
        return
    if len(payment.currency) != 3:
        result.errors.append(RowError(position, "CUR02", "required",
                                      "No currency (CUR segment or the account's)."))
        return
    for line in payment.lines:
        line.currency = payment.currency
    result.payments.append(payment)
