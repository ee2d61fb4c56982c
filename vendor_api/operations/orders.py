"""Vendor Orders v1: getPurchaseOrders, getPurchaseOrder, submitAcknowledgement,
getPurchaseOrdersStatus (models: vendorOrders.json)."""

from __future__ import annotations

import datetime
import enum
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from vendor_api.types import (
    DateTimeInterval,
    ItemQuantity,
    Money,
    Party,
    TransactionReceipt,
    format_datetime,
    parse_datetime,
    parse_enum,
)

# Amazon refuses getPurchaseOrders / getPurchaseOrdersStatus ranges longer
# than 7 days ("The date range must not exceed 7 days").
MAX_WINDOW = datetime.timedelta(days=7)
MAX_PAGE_SIZE = 100


class PurchaseOrderState(enum.StrEnum):
    NEW = "New"
    ACKNOWLEDGED = "Acknowledged"
    CLOSED = "Closed"


class PurchaseOrderType(enum.StrEnum):
    REGULAR_ORDER = "RegularOrder"
    CONSIGNED_ORDER = "ConsignedOrder"
    NEW_PRODUCT_INTRODUCTION = "NewProductIntroduction"
    RUSH_ORDER = "RushOrder"


class PaymentMethod(enum.StrEnum):
    INVOICE = "Invoice"
    CONSIGNMENT = "Consignment"
    CREDIT_CARD = "CreditCard"
    PREPAID = "Prepaid"


class SortOrder(enum.StrEnum):
    ASC = "ASC"
    DESC = "DESC"


class AcknowledgementCode(enum.StrEnum):
    ACCEPTED = "Accepted"
    BACKORDERED = "Backordered"
    REJECTED = "Rejected"


class RejectionReason(enum.StrEnum):
    TEMPORARILY_UNAVAILABLE = "TemporarilyUnavailable"
    INVALID_PRODUCT_IDENTIFIER = "InvalidProductIdentifier"
    OBSOLETE_PRODUCT = "ObsoleteProduct"


class PurchaseOrderStatus(enum.StrEnum):
    OPEN = "OPEN"
    CLOSED = "CLOSED"


class ConfirmationStatus(enum.StrEnum):
    ACCEPTED = "ACCEPTED"
    PARTIALLY_ACCEPTED = "PARTIALLY_ACCEPTED"
    REJECTED = "REJECTED"
    UNCONFIRMED = "UNCONFIRMED"


class ReceiveStatus(enum.StrEnum):
    NOT_RECEIVED = "NOT_RECEIVED"
    PARTIALLY_RECEIVED = "PARTIALLY_RECEIVED"
    RECEIVED = "RECEIVED"


@dataclass(frozen=True)
class ImportDetails:
    method_of_payment: str | None
    international_commercial_terms: str | None
    port_of_delivery: str | None
    import_containers: str | None
    shipping_instructions: str | None

    @classmethod
    def parse(cls, raw: dict | None) -> ImportDetails | None:
        if not raw:
            return None
        return cls(
            method_of_payment=raw.get("methodOfPayment"),
            international_commercial_terms=raw.get("internationalCommercialTerms"),
            port_of_delivery=raw.get("portOfDelivery"),
            import_containers=raw.get("importContainers"),
            shipping_instructions=raw.get("shippingInstructions"),
        )


@dataclass(frozen=True)
class OrderItem:
    item_sequence_number: str
    amazon_product_identifier: str | None
    vendor_product_identifier: str | None
    ordered_quantity: ItemQuantity | None
    is_back_order_allowed: bool
    net_cost: Money | None
    list_price: Money | None

    @classmethod
    def parse(cls, raw: dict) -> OrderItem:
        return cls(
            item_sequence_number=str(raw.get("itemSequenceNumber", "")),
            amazon_product_identifier=raw.get("amazonProductIdentifier"),
            vendor_product_identifier=raw.get("vendorProductIdentifier"),
            ordered_quantity=ItemQuantity.parse(raw.get("orderedQuantity")),
            is_back_order_allowed=bool(raw.get("isBackOrderAllowed", False)),
            net_cost=Money.parse(raw.get("netCost")),
            list_price=Money.parse(raw.get("listPrice")),
        )


@dataclass(frozen=True)
class PurchaseOrder:
    purchase_order_number: str
    state: PurchaseOrderState | str | None
    purchase_order_date: datetime.datetime | None = None
    changed_date: datetime.datetime | None = None
    state_changed_date: datetime.datetime | None = None
    order_type: PurchaseOrderType | str | None = None
    import_details: ImportDetails | None = None
    deal_code: str | None = None
    payment_method: PaymentMethod | str | None = None
    buying_party: Party | None = None
    selling_party: Party | None = None
    ship_to_party: Party | None = None
    bill_to_party: Party | None = None
    ship_window: DateTimeInterval | None = None
    delivery_window: DateTimeInterval | None = None
    items: tuple[OrderItem, ...] = ()
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def parse(cls, raw: dict) -> PurchaseOrder:
        details = raw.get("orderDetails") or {}
        return cls(
            purchase_order_number=raw.get("purchaseOrderNumber", ""),
            state=parse_enum(PurchaseOrderState, raw.get("purchaseOrderState")),
            purchase_order_date=parse_datetime(details.get("purchaseOrderDate")),
            changed_date=parse_datetime(details.get("purchaseOrderChangedDate")),
            state_changed_date=parse_datetime(details.get("purchaseOrderStateChangedDate")),
            order_type=parse_enum(PurchaseOrderType, details.get("purchaseOrderType")),
            import_details=ImportDetails.parse(details.get("importDetails")),
            deal_code=details.get("dealCode"),
            payment_method=parse_enum(PaymentMethod, details.get("paymentMethod")),
            buying_party=Party.parse(details.get("buyingParty")),
            selling_party=Party.parse(details.get("sellingParty")),
            ship_to_party=Party.parse(details.get("shipToParty")),
            bill_to_party=Party.parse(details.get("billToParty")),
            ship_window=DateTimeInterval.parse(details.get("shipWindow")),
            delivery_window=DateTimeInterval.parse(details.get("deliveryWindow")),
            items=tuple(OrderItem.parse(item) for item in details.get("items") or []),
            raw=raw,
        )


@dataclass(frozen=True)
class PurchaseOrderPage:
    orders: tuple[PurchaseOrder, ...]
    next_token: str | None


@dataclass(frozen=True)
class RawPurchaseOrderPage:
    """One getPurchaseOrders page before parsing: each order is the JSON
    object Amazon sent (``PurchaseOrder.parse`` turns one into the typed
    value). For bulk readers that skip unchanged orders before parsing."""

    orders: tuple[dict, ...]
    next_token: str | None


@dataclass(frozen=True)
class ItemAcknowledgement:
    code: AcknowledgementCode
    quantity: ItemQuantity
    scheduled_ship_date: datetime.datetime | None = None
    scheduled_delivery_date: datetime.datetime | None = None
    rejection_reason: RejectionReason | None = None

    def to_json(self) -> dict:
        data: dict[str, Any] = {
            "acknowledgementCode": AcknowledgementCode(self.code).value,
            "acknowledgedQuantity": self.quantity.to_json(),
        }
        if self.scheduled_ship_date:
            data["scheduledShipDate"] = format_datetime(self.scheduled_ship_date)
        if self.scheduled_delivery_date:
            data["scheduledDeliveryDate"] = format_datetime(self.scheduled_delivery_date)
        if self.rejection_reason:
            data["rejectionReason"] = RejectionReason(self.rejection_reason).value
        return data


@dataclass(frozen=True)
class AcknowledgementItem:
    ordered_quantity: ItemQuantity
    acknowledgements: tuple[ItemAcknowledgement, ...]
    item_sequence_number: str | None = None
    amazon_product_identifier: str | None = None
    vendor_product_identifier: str | None = None
    net_cost: Money | None = None
    list_price: Money | None = None
    discount_multiplier: str | None = None

    def to_json(self) -> dict:
        data: dict[str, Any] = {
            "orderedQuantity": self.ordered_quantity.to_json(),
            "itemAcknowledgements": [ack.to_json() for ack in self.acknowledgements],
        }
        optional = {
            "itemSequenceNumber": self.item_sequence_number,
            "amazonProductIdentifier": self.amazon_product_identifier,
            "vendorProductIdentifier": self.vendor_product_identifier,
            "discountMultiplier": self.discount_multiplier,
        }
        data.update({key: value for key, value in optional.items() if value is not None})
        if self.net_cost:
            data["netCost"] = self.net_cost.to_json()
        if self.list_price:
            data["listPrice"] = self.list_price.to_json()
        return data


@dataclass(frozen=True)
class OrderAcknowledgement:
    purchase_order_number: str
    selling_party: Party
    acknowledgement_date: datetime.datetime
    items: tuple[AcknowledgementItem, ...]

    def to_json(self) -> dict:
        return {
            "purchaseOrderNumber": self.purchase_order_number,
            "sellingParty": self.selling_party.to_json(tax_style="single"),
            "acknowledgementDate": format_datetime(self.acknowledgement_date),
            "items": [item.to_json() for item in self.items],
        }


def submit_acknowledgement_body(*, acknowledgements: list[OrderAcknowledgement]) -> dict:
    return {"acknowledgements": [ack.to_json() for ack in acknowledgements]}


@dataclass(frozen=True)
class OrderedQuantityDetail:
    updated_date: datetime.datetime | None
    ordered_quantity: ItemQuantity | None
    cancelled_quantity: ItemQuantity | None


@dataclass(frozen=True)
class AcknowledgementStatusDetail:
    acknowledgement_date: datetime.datetime | None
    accepted_quantity: ItemQuantity | None
    rejected_quantity: ItemQuantity | None


@dataclass(frozen=True)
class OrderItemStatus:
    item_sequence_number: str
    buyer_product_identifier: str | None
    vendor_product_identifier: str | None
    net_cost: Money | None
    list_price: Money | None
    ordered_quantity: ItemQuantity | None
    ordered_quantity_details: tuple[OrderedQuantityDetail, ...]
    confirmation_status: ConfirmationStatus | str | None
    accepted_quantity: ItemQuantity | None
    rejected_quantity: ItemQuantity | None
    acknowledgement_details: tuple[AcknowledgementStatusDetail, ...]
    receive_status: ReceiveStatus | str | None
    received_quantity: ItemQuantity | None
    last_receive_date: datetime.datetime | None

    @classmethod
    def parse(cls, raw: dict) -> OrderItemStatus:
        ordered = raw.get("orderedQuantity") or {}
        acknowledgement = raw.get("acknowledgementStatus") or {}
        receiving = raw.get("receivingStatus") or {}
        return cls(
            item_sequence_number=str(raw.get("itemSequenceNumber", "")),
            buyer_product_identifier=raw.get("buyerProductIdentifier"),
            vendor_product_identifier=raw.get("vendorProductIdentifier"),
            net_cost=Money.parse(raw.get("netCost")),
            list_price=Money.parse(raw.get("listPrice")),
            ordered_quantity=ItemQuantity.parse(ordered.get("orderedQuantity")),
            ordered_quantity_details=tuple(
                OrderedQuantityDetail(
                    updated_date=parse_datetime(detail.get("updatedDate")),
                    ordered_quantity=ItemQuantity.parse(detail.get("orderedQuantity")),
                    cancelled_quantity=ItemQuantity.parse(detail.get("cancelledQuantity")),
                )
                for detail in ordered.get("orderedQuantityDetails") or []
            ),
            confirmation_status=parse_enum(
                ConfirmationStatus, acknowledgement.get("confirmationStatus")
            ),
            accepted_quantity=ItemQuantity.parse(acknowledgement.get("acceptedQuantity")),
            rejected_quantity=ItemQuantity.parse(acknowledgement.get("rejectedQuantity")),
            acknowledgement_details=tuple(
                AcknowledgementStatusDetail(
                    acknowledgement_date=parse_datetime(detail.get("acknowledgementDate")),
                    accepted_quantity=ItemQuantity.parse(detail.get("acceptedQuantity")),
                    rejected_quantity=ItemQuantity.parse(detail.get("rejectedQuantity")),
                )
                for detail in acknowledgement.get("acknowledgementStatusDetails") or []
            ),
            receive_status=parse_enum(ReceiveStatus, receiving.get("receiveStatus")),
            received_quantity=ItemQuantity.parse(receiving.get("receivedQuantity")),
            last_receive_date=parse_datetime(receiving.get("lastReceiveDate")),
        )


@dataclass(frozen=True)
class OrderStatus:
    purchase_order_number: str
    status: PurchaseOrderStatus | str | None
    purchase_order_date: datetime.datetime | None
    last_updated_date: datetime.datetime | None
    selling_party: Party | None
    ship_to_party: Party | None
    items: tuple[OrderItemStatus, ...]

    @classmethod
    def parse(cls, raw: dict) -> OrderStatus:
        return cls(
            purchase_order_number=raw.get("purchaseOrderNumber", ""),
            status=parse_enum(PurchaseOrderStatus, raw.get("purchaseOrderStatus")),
            purchase_order_date=parse_datetime(raw.get("purchaseOrderDate")),
            last_updated_date=parse_datetime(raw.get("lastUpdatedDate")),
            selling_party=Party.parse(raw.get("sellingParty")),
            ship_to_party=Party.parse(raw.get("shipToParty")),
            items=tuple(OrderItemStatus.parse(item) for item in raw.get("itemStatus") or []),
        )


@dataclass(frozen=True)
class OrderStatusPage:
    statuses: tuple[OrderStatus, ...]
    next_token: str | None


def split_windows(
    *, after: datetime.datetime, before: datetime.datetime, newest_first: bool = False
) -> list[tuple[datetime.datetime, datetime.datetime]]:
    """Consecutive windows of at most 7 days covering [after, before]."""
    if after.tzinfo is None or before.tzinfo is None:
        raise ValueError("Window bounds must be timezone-aware.")
    if before <= after:
        raise ValueError("The window end must be after its start.")
    windows = []
    start = after
    while start < before:
        end = min(start + MAX_WINDOW, before)
        windows.append((start, end))
        start = end
    return list(reversed(windows)) if newest_first else windows


def _query(**values: Any) -> dict[str, str]:
    query = {}
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, datetime.datetime):
            value = format_datetime(value)
        elif isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, enum.Enum):
            value = value.value
        query[name] = str(value)
    return query


class OrdersOperations:
    """Mixed into VendorApiClient; ``self.transport`` is an SpApiTransport."""

    def get_purchase_orders_page(
        self,
        *,
        created_after: datetime.datetime | None = None,
        created_before: datetime.datetime | None = None,
        changed_after: datetime.datetime | None = None,
        changed_before: datetime.datetime | None = None,
        sort_order: SortOrder | None = None,
        include_details: bool = True,
        po_item_state_cancelled: bool = False,
        is_po_changed: bool | None = None,
        purchase_order_state: PurchaseOrderState | None = None,
        ordering_vendor_code: str | None = None,
        limit: int = MAX_PAGE_SIZE,
        next_token: str | None = None,
    ) -> PurchaseOrderPage:
        """One page as Amazon returns it; prefer ``iter_purchase_orders``."""
        page = self.get_purchase_orders_raw_page(
            created_after=created_after, created_before=created_before,
            changed_after=changed_after, changed_before=changed_before,
            sort_order=sort_order, include_details=include_details,
            po_item_state_cancelled=po_item_state_cancelled, is_po_changed=is_po_changed,
            purchase_order_state=purchase_order_state,
            ordering_vendor_code=ordering_vendor_code, limit=limit, next_token=next_token,
        )
        return PurchaseOrderPage(
            orders=tuple(PurchaseOrder.parse(order) for order in page.orders),
            next_token=page.next_token,
        )

    def get_purchase_orders_raw_page(
        self,
        *,
        created_after: datetime.datetime | None = None,
        created_before: datetime.datetime | None = None,
        changed_after: datetime.datetime | None = None,
        changed_before: datetime.datetime | None = None,
        sort_order: SortOrder | None = None,
        include_details: bool = True,
        po_item_state_cancelled: bool = False,
        is_po_changed: bool | None = None,
        purchase_order_state: PurchaseOrderState | None = None,
        ordering_vendor_code: str | None = None,
        limit: int = MAX_PAGE_SIZE,
        next_token: str | None = None,
    ) -> RawPurchaseOrderPage:
        """``get_purchase_orders_page`` without parsing the orders (same
        request, same errors): the orders are Amazon's JSON objects."""
        query = _query(
            limit=limit,
            createdAfter=created_after,
            createdBefore=created_before,
            changedAfter=changed_after,
            changedBefore=changed_before,
            sortOrder=SortOrder(sort_order) if sort_order else None,
            nextToken=next_token,
            includeDetails=include_details,
            poItemState="Cancelled" if po_item_state_cancelled else None,
            isPOChanged=is_po_changed,
            purchaseOrderState=PurchaseOrderState(purchase_order_state)
            if purchase_order_state else None,
            orderingVendorCode=ordering_vendor_code,
        )
        response = self.transport.call(
            operation="getPurchaseOrders", method="GET",
            path="/vendor/orders/v1/purchaseOrders", query=query,
        )
        payload = (response.body or {}).get("payload") or {}
        return RawPurchaseOrderPage(
            orders=tuple(payload.get("orders") or ()),
            next_token=(payload.get("pagination") or {}).get("nextToken") or None,
        )

    def iter_purchase_orders(
        self,
        *,
        created_after: datetime.datetime | None = None,
        created_before: datetime.datetime | None = None,
        changed_after: datetime.datetime | None = None,
        changed_before: datetime.datetime | None = None,
        sort_order: SortOrder = SortOrder.ASC,
        include_details: bool = True,
        po_item_state_cancelled: bool = False,
        is_po_changed: bool | None = None,
        purchase_order_state: PurchaseOrderState | None = None,
        ordering_vendor_code: str | None = None,
        page_size: int = MAX_PAGE_SIZE,
        now: datetime.datetime | None = None,
    ) -> Iterator[PurchaseOrder]:
        """Every PO in the range: split into 7-day windows, all pages of each.

        Give either the created range or the changed range (the end defaults
        to now). A PO on a window boundary can be listed twice by Amazon;
        it is yielded once.
        """
        if (created_after is None) == (changed_after is None):
            raise ValueError("Give exactly one of created_after or changed_after.")
        now = now or datetime.datetime.now(tz=datetime.UTC)
        by_created = created_after is not None
        after = created_after if by_created else changed_after
        before = (created_before if by_created else changed_before) or now
        seen: set[str] = set()
        windows = split_windows(
            after=after, before=before, newest_first=SortOrder(sort_order) == SortOrder.DESC
        )
        for window_start, window_end in windows:
            bounds = (
                {"created_after": window_start, "created_before": window_end}
                if by_created
                else {"changed_after": window_start, "changed_before": window_end}
            )
            next_token = None
            while True:
                page = self.get_purchase_orders_page(
                    **bounds,
                    sort_order=sort_order,
                    include_details=include_details,
                    po_item_state_cancelled=po_item_state_cancelled,
                    is_po_changed=is_po_changed,
                    purchase_order_state=purchase_order_state,
                    ordering_vendor_code=ordering_vendor_code,
                    limit=page_size,
                    next_token=next_token,
                )
                for order in page.orders:
                    if order.purchase_order_number not in seen:
                        seen.add(order.purchase_order_number)
                        yield order
                if not page.next_token:
                    break
                next_token = page.next_token

    def get_purchase_order(self, *, purchase_order_number: str) -> PurchaseOrder:
        response = self.transport.call(
            operation="getPurchaseOrder", method="GET",
            path=f"/vendor/orders/v1/purchaseOrders/{purchase_order_number}",
        )
        return PurchaseOrder.parse((response.body or {}).get("payload") or {})

    def submit_acknowledgement(
        self, *, acknowledgements: list[OrderAcknowledgement]
    ) -> TransactionReceipt:
        response = self.transport.call(
            operation="submitAcknowledgement", method="POST",
            path="/vendor/orders/v1/acknowledgements",
            body=submit_acknowledgement_body(acknowledgements=acknowledgements),
        )
        return self._transaction_receipt(response)

    def get_purchase_orders_status_page(
        self,
        *,
        created_after: datetime.datetime | None = None,
        created_before: datetime.datetime | None = None,
        updated_after: datetime.datetime | None = None,
        updated_before: datetime.datetime | None = None,
        purchase_order_number: str | None = None,
        purchase_order_status: PurchaseOrderStatus | None = None,
        item_confirmation_status: ConfirmationStatus | None = None,
        item_receive_status: ReceiveStatus | None = None,
        ordering_vendor_code: str | None = None,
        ship_to_party_id: str | None = None,
        sort_order: SortOrder | None = None,
        limit: int = MAX_PAGE_SIZE,
        next_token: str | None = None,
    ) -> OrderStatusPage:
        query = _query(
            limit=limit,
            sortOrder=SortOrder(sort_order) if sort_order else None,
            nextToken=next_token,
            createdAfter=created_after,
            createdBefore=created_before,
            updatedAfter=updated_after,
            updatedBefore=updated_before,
            purchaseOrderNumber=purchase_order_number,
            purchaseOrderStatus=PurchaseOrderStatus(purchase_order_status)
            if purchase_order_status else None,
            itemConfirmationStatus=ConfirmationStatus(item_confirmation_status)
            if item_confirmation_status else None,
            itemReceiveStatus=ReceiveStatus(item_receive_status) if item_receive_status else None,
            orderingVendorCode=ordering_vendor_code,
            shipToPartyId=ship_to_party_id,
        )
        response = self.transport.call(
            operation="getPurchaseOrdersStatus", method="GET",
            path="/vendor/orders/v1/purchaseOrdersStatus", query=query,
        )
        payload = (response.body or {}).get("payload") or {}
        return OrderStatusPage(
            statuses=tuple(OrderStatus.parse(item) for item in payload.get("ordersStatus") or []),
            next_token=(payload.get("pagination") or {}).get("nextToken") or None,
        )

    def iter_purchase_orders_status(
        self,
        *,
        updated_after: datetime.datetime | None = None,
        updated_before: datetime.datetime | None = None,
        created_after: datetime.datetime | None = None,
        created_before: datetime.datetime | None = None,
        now: datetime.datetime | None = None,
        **filters: Any,
    ) -> Iterator[OrderStatus]:
        """Statuses across 7-day windows and all pages (filters as in the page call)."""
        if (created_after is None) == (updated_after is None):
            raise ValueError("Give exactly one of created_after or updated_after.")
        now = now or datetime.datetime.now(tz=datetime.UTC)
        by_created = created_after is not None
        after = created_after if by_created else updated_after
        before = (created_before if by_created else updated_before) or now
        seen: set[str] = set()
        for window_start, window_end in split_windows(after=after, before=before):
            bounds = (
                {"created_after": window_start, "created_before": window_end}
                if by_created
                else {"updated_after": window_start, "updated_before": window_end}
            )
            next_token = None
            while True:
                page = self.get_purchase_orders_status_page(
                    **bounds, **filters, next_token=next_token
                )
                for status in page.statuses:
                    if status.purchase_order_number not in seen:
                        seen.add(status.purchase_order_number)
                        yield status
                if not page.next_token:
                    break
                next_token = page.next_token
