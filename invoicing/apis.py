"""Invoices and credit notes for BI tools: lines and tax lines nested,
amounts as strings (DRF's DecimalField), statuses and check state.

Lists page by cursor in ``(-created_at, -id)`` order; ``updated_since``
narrows them for incremental loads (the kernel's ascending
``(updated_at, id)`` order for BI, when it lands in acorn/api.py, applies
to these lists unchanged).
"""

from __future__ import annotations

from django.http import Http404
from rest_framework import serializers
from rest_framework.response import Response

from acorn.api import TenantAPIView, TenantListAPIView
from invoicing.models import CreditReason, DocumentKind, InvoiceStatus
from invoicing.selectors import invoice_get, invoice_list

# Amounts in EN 16931's two decimals; unit costs keep the PO's four.
MONEY = {"max_digits": 18, "decimal_places": 2}
UNIT_COST = {"max_digits": 18, "decimal_places": 4}


class InvoiceLineOutputSerializer(serializers.Serializer):
    line_number = serializers.IntegerField()
    item_sequence_number = serializers.CharField()
    purchase_order_number = serializers.CharField()
    asin = serializers.CharField()
    vendor_sku = serializers.CharField()
    gtin = serializers.CharField()
    description = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_of_measure = serializers.CharField()
    unit_size = serializers.IntegerField()
    net_unit_cost = serializers.DecimalField(**UNIT_COST)
    line_net_amount = serializers.DecimalField(**MONEY)
    tax_category = serializers.CharField()
    tax_rate = serializers.DecimalField(max_digits=5, decimal_places=2)
    lot_number = serializers.CharField()
    country_of_origin = serializers.CharField()
    credited_line_number = serializers.IntegerField(source="credited_line.line_number",
                                                    default=None)


class InvoiceTaxLineOutputSerializer(serializers.Serializer):
    category = serializers.CharField()
    rate = serializers.DecimalField(max_digits=5, decimal_places=2)
    taxable_amount = serializers.DecimalField(**MONEY)
    tax_amount = serializers.DecimalField(**MONEY)
    exemption_reason_code = serializers.CharField()
    exemption_reason = serializers.CharField()


class AllowanceChargeOutputSerializer(serializers.Serializer):
    is_charge = serializers.BooleanField()
    reason_code = serializers.CharField()
    reason = serializers.CharField()
    amount = serializers.DecimalField(**MONEY)
    tax_category = serializers.CharField()
    tax_rate = serializers.DecimalField(max_digits=5, decimal_places=2)


class FindingOutputSerializer(serializers.Serializer):
    level = serializers.CharField()
    code = serializers.CharField()
    line = serializers.IntegerField(allow_null=True)
    message = serializers.CharField()
    params = serializers.DictField(child=serializers.CharField())


class DocumentOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    status = serializers.CharField()
    number = serializers.CharField()
    issue_date = serializers.DateField(allow_null=True)
    currency = serializers.CharField()
    account = serializers.CharField(source="account.name")
    purchase_order_number = serializers.CharField()
    shipment_id = serializers.IntegerField(allow_null=True)
    marketplace_id = serializers.CharField()
    seller = serializers.JSONField()
    buyer = serializers.JSONField()
    ship_to = serializers.JSONField()
    payment_terms = serializers.CharField()
    payment_due_date = serializers.DateField(allow_null=True)
    delivery_date = serializers.DateField(allow_null=True)
    line_total = serializers.DecimalField(**MONEY)
    allowance_total = serializers.DecimalField(**MONEY)
    charge_total = serializers.DecimalField(**MONEY)
    tax_exclusive_total = serializers.DecimalField(**MONEY)
    tax_total = serializers.DecimalField(**MONEY)
    tax_inclusive_total = serializers.DecimalField(**MONEY)
    amount_due = serializers.DecimalField(**MONEY)
    check_results = FindingOutputSerializer(many=True)
    checked_at = serializers.DateTimeField(allow_null=True)
    issued_at = serializers.DateTimeField(allow_null=True)
    lines = InvoiceLineOutputSerializer(many=True, source="lines.all")
    tax_lines = InvoiceTaxLineOutputSerializer(many=True, source="tax_lines.all")
    allowance_charges = AllowanceChargeOutputSerializer(many=True,
                                                        source="allowance_charges.all")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class CreditNoteOutputSerializer(DocumentOutputSerializer):
    original_invoice_id = serializers.IntegerField(allow_null=True)
    original_invoice_number = serializers.CharField(source="original_invoice.number",
                                                    default="")
    credit_reason = serializers.CharField()
    credit_references = serializers.JSONField()


class InvoiceListApi(TenantListAPIView):
    """Invoices with lines, tax lines and the pre-send check's findings."""

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=InvoiceStatus.choices, required=False)
        purchase_order_number = serializers.CharField(required=False, max_length=20)
        number = serializers.CharField(required=False, max_length=40)
        issued_from = serializers.DateField(required=False)
        issued_to = serializers.DateField(required=False)
        account = serializers.IntegerField(required=False, min_value=1)
        updated_since = serializers.DateTimeField(required=False)

    class OutputSerializer(DocumentOutputSerializer):
        pass

    def scoped_queryset(self, *, filters):
        return invoice_list(tenant=self.tenant, filters=filters, kind=DocumentKind.INVOICE)


class InvoiceDetailApi(TenantAPIView):
    """One invoice or credit note."""

    OutputSerializer = CreditNoteOutputSerializer

    def get(self, request, invoice_id: int):
        invoice = invoice_get(tenant=self.tenant, invoice_id=invoice_id)
        if invoice is None:
            raise Http404
        return Response(self.OutputSerializer(invoice).data)


class CreditNoteListApi(TenantListAPIView):
    """Credit notes with the invoice they correct and Amazon's references."""

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=InvoiceStatus.choices, required=False)
        credit_reason = serializers.ChoiceField(choices=CreditReason.choices, required=False)
        purchase_order_number = serializers.CharField(required=False, max_length=20)
        number = serializers.CharField(required=False, max_length=40)
        original_invoice = serializers.IntegerField(required=False, min_value=1)
        issued_from = serializers.DateField(required=False)
        issued_to = serializers.DateField(required=False)
        updated_since = serializers.DateTimeField(required=False)

    class OutputSerializer(CreditNoteOutputSerializer):
        pass

    def scoped_queryset(self, *, filters):
        return invoice_list(tenant=self.tenant, filters=filters,
                            kind=DocumentKind.CREDIT_NOTE)
