"""Logistics labels: one 4x6 inch PDF page per carton, then one per
pallet, each with its GS1-128 SSCC.

reportlab draws the page and the barcode: its Code128 encodes FNC1
(``\\xf1``), so "FNC1 + (00) + SSCC" is a true GS1-128 symbol, with no
second library. The PDF is rendered on request and never stored.
"""

from __future__ import annotations

import io

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.units import inch, mm
from reportlab.pdfgen import canvas

from channels.gs1 import gs1_128_sscc_data, sscc_human_readable

LABEL_SIZE = (4 * inch, 6 * inch)
# GS1 logistics label: X-dimension 0.495-0.94 mm, bar height >= 27 mm.
BAR_WIDTH = 0.5 * mm
BAR_HEIGHT = 30 * mm


def _address_lines(party: dict) -> list[str]:
    address = (party or {}).get("address") or {}
    lines = [address.get("name", ""), address.get("addressLine1", ""),
             " ".join(filter(None, [address.get("postalCode"), address.get("city")])),
             address.get("countryCode", "")]
    return [line for line in lines if line]


def shipment_labels_pdf(*, shipment, cartons, purchase_order_numbers, ship_to: dict,
                        pallets=()) -> bytes:
    """The labels PDF of ``cartons`` then ``pallets`` (each in order) of
    ``shipment``. A pallet label also counts its cartons and says whether
    the pallet may be stacked."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=LABEL_SIZE)
    pdf.setTitle(f"Logistics labels {shipment.shipment_identifier}")
    pages = [(f"Carton {carton.sequence_number} of {len(cartons)}", None, carton.sscc)
             for carton in cartons]
    cartons_on: dict[int, int] = {}
    for carton in cartons:
        if carton.pallet_id is not None:
            cartons_on[carton.pallet_id] = cartons_on.get(carton.pallet_id, 0) + 1
    pages += [
        (f"Pallet {pallet.sequence_number} of {len(pallets)}",
         f"{cartons_on.get(pallet.pk, 0)} cartons"
         + ("" if pallet.is_stackable else " - DO NOT STACK"),
         pallet.sscc)
        for pallet in pallets
    ]
    for title, note, sscc in pages:
        _label_page(pdf, shipment=shipment, ship_to=ship_to, title=title, note=note, sscc=sscc,
                    purchase_order_numbers=purchase_order_numbers)
    pdf.save()
    return buffer.getvalue()


def _label_page(pdf, *, shipment, ship_to, title, note, sscc, purchase_order_numbers) -> None:
    width, height = LABEL_SIZE
    y = height - 0.35 * inch
    pdf.setFont("Helvetica-Bold", 9)
    pdf.drawString(0.2 * inch, y, "SHIP FROM")
    pdf.drawString(2.1 * inch, y, "SHIP TO")
    pdf.setFont("Helvetica", 8)
    from_lines = [shipment.ship_from.get("partyId", "")] + _address_lines(shipment.ship_from)
    to_lines = [f"Amazon {shipment.ship_to_party_id}"] + _address_lines(ship_to)
    for index in range(max(len(from_lines), len(to_lines))):
        y -= 11
        if index < len(from_lines):
            pdf.drawString(0.2 * inch, y, from_lines[index][:34])
        if index < len(to_lines):
            pdf.drawString(2.1 * inch, y, to_lines[index][:34])
    y -= 22
    pdf.setFont("Helvetica-Bold", 10)
    pdf.drawString(0.2 * inch, y, f"PO: {', '.join(purchase_order_numbers)}"[:60])
    y -= 14
    pdf.drawString(0.2 * inch, y, f"ASN: {shipment.shipment_identifier}")
    y -= 14
    pdf.drawString(0.2 * inch, y, title)
    if note:
        y -= 14
        pdf.drawString(0.2 * inch, y, note)
    barcode = Code128(gs1_128_sscc_data(sscc), barWidth=BAR_WIDTH,
                      barHeight=BAR_HEIGHT, humanReadable=False, quiet=True)
    x = max((width - barcode.width) / 2, 0.1 * inch)
    barcode.drawOn(pdf, x, 0.75 * inch)
    pdf.setFont("Helvetica-Bold", 11)
    pdf.drawCentredString(width / 2, 0.5 * inch, sscc_human_readable(sscc))
    pdf.setFont("Helvetica", 7)
    pdf.drawCentredString(width / 2, 0.3 * inch, "SSCC")
    pdf.showPage()
