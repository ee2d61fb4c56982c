"""Typed values shared by the operations: money, quantities, parties, enums.

Amazon's own sandbox examples break their schema now and then (``CASES``
for ``Cases``, missing required fields), so parsing is lenient: enums match
case-insensitively and fall back to the raw string, absent fields are None.
Requests are strict: builders only accept the enums.
"""

from __future__ import annotations

import datetime
import enum
import logging
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

E = TypeVar("E", bound=enum.Enum)


def parse_enum(enum_class: type[E], raw: Any) -> E | str | None:
    """The member for ``raw``, matched case-insensitively; the raw text when unknown."""
    if raw is None:
        return None
    # The exact value first, straight from the enum's own value map: the
    # bulk PO sync parses several enums per line.
    try:
        return enum_class._value2member_map_[raw]
    except (KeyError, TypeError):
        pass
    lowered = str(raw).lower()
    for member in enum_class:
        if str(member.value).lower() == lowered:
            return member
    logger.warning("Unknown %s value %r from SP-API; kept as text", enum_class.__name__, raw)
    return str(raw)


def parse_datetime(raw: str | None) -> datetime.datetime | None:
    """An aware UTC datetime; Amazon sometimes omits the offset, which means UTC."""
    if not raw:
        return None
    try:
        # Python 3.11 reads a trailing "Z" itself (UTC, the common case).
        value = datetime.datetime.fromisoformat(raw)
    except ValueError:
        value = datetime.datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is datetime.UTC:
        return value
    if value.tzinfo is None:
        return value.replace(tzinfo=datetime.UTC)
    return value.astimezone(datetime.UTC)


def format_datetime(value: datetime.datetime) -> str:
    """ISO 8601 in UTC with ``Z``, as the SP-API docs ask; naive input is refused."""
    if value.tzinfo is None:
        raise ValueError("SP-API datetimes must be timezone-aware.")
    text = value.astimezone(datetime.UTC).isoformat(timespec="seconds")
    return text.replace("+00:00", "Z")


def parse_decimal(raw: Any) -> Decimal | None:
    if raw is None or raw == "":
        return None
    try:
        return Decimal(str(raw))
    except InvalidOperation:
        raise ValueError(f"Not a decimal amount: {raw!r}") from None


def format_decimal(value: Decimal) -> str:
    """Amazon's Decimal pattern forbids exponents from ``str(Decimal)`` like 1E+2."""
    if not isinstance(value, Decimal):
        raise TypeError(f"Money and measures must be Decimal, not {type(value).__name__}.")
    return format(value, "f")


@dataclass(frozen=True)
class DateTimeInterval:
    start: datetime.datetime
    end: datetime.datetime

    @classmethod
    def parse(cls, raw: str | None) -> DateTimeInterval | None:
        if not raw or "--" not in raw:
            return None
        start, end = raw.split("--", 1)
        return cls(start=parse_datetime(start), end=parse_datetime(end))

    def to_json(self) -> str:
        return f"{format_datetime(self.start)}--{format_datetime(self.end)}"


class UnitOfMeasure(enum.StrEnum):
    CASES = "Cases"
    EACHES = "Eaches"


class WeightUnit(enum.StrEnum):
    POUNDS = "POUNDS"
    OUNCES = "OUNCES"
    GRAMS = "GRAMS"
    KILOGRAMS = "KILOGRAMS"


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency_code: str
    unit_of_measure: WeightUnit | str | None = None  # priced by weight when set

    @classmethod
    def parse(cls, raw: dict | None) -> Money | None:
        if not raw or raw.get("amount") is None:
            return None
        unit = raw.get("unitOfMeasure")
        return cls(
            amount=parse_decimal(raw["amount"]),
            currency_code=raw.get("currencyCode", ""),
            unit_of_measure=None if unit is None else parse_enum(WeightUnit, unit),
        )

    def to_json(self) -> dict:
        data = {"currencyCode": self.currency_code, "amount": format_decimal(self.amount)}
        if self.unit_of_measure:
            data["unitOfMeasure"] = str(self.unit_of_measure)
        return data


@dataclass(frozen=True)
class ItemQuantity:
    amount: int
    unit_of_measure: UnitOfMeasure | str | None = UnitOfMeasure.EACHES
    unit_size: int | None = None

    @classmethod
    def parse(cls, raw: dict | None) -> ItemQuantity | None:
        if not raw:
            return None
        return cls(
            amount=int(raw.get("amount") or 0),
            unit_of_measure=parse_enum(UnitOfMeasure, raw.get("unitOfMeasure")),
            unit_size=raw.get("unitSize"),
        )

    def to_json(self) -> dict:
        data: dict[str, Any] = {"amount": self.amount}
        if self.unit_of_measure:
            data["unitOfMeasure"] = str(self.unit_of_measure)
        if self.unit_size is not None:
            data["unitSize"] = self.unit_size
        return data


class TaxRegistrationType(enum.StrEnum):
    VAT = "VAT"
    GST = "GST"


@dataclass(frozen=True)
class TaxRegistration:
    registration_type: TaxRegistrationType | str
    number: str

    @classmethod
    def parse(cls, raw: dict | None) -> TaxRegistration | None:
        if not raw:
            return None
        return cls(
            registration_type=parse_enum(TaxRegistrationType, raw.get("taxRegistrationType")),
            number=raw.get("taxRegistrationNumber", ""),
        )

    def to_json(self) -> dict:
        return {
            "taxRegistrationType": str(self.registration_type),
            "taxRegistrationNumber": self.number,
        }


@dataclass(frozen=True)
class Address:
    name: str
    address_line1: str
    country_code: str
    address_line2: str | None = None
    address_line3: str | None = None
    city: str | None = None
    county: str | None = None
    district: str | None = None
    state_or_region: str | None = None
    postal_code: str | None = None
    phone: str | None = None

    @classmethod
    def parse(cls, raw: dict | None) -> Address | None:
        if not raw:
            return None
        return cls(
            name=raw.get("name", ""),
            address_line1=raw.get("addressLine1", ""),
            country_code=raw.get("countryCode", ""),
            address_line2=raw.get("addressLine2"),
            address_line3=raw.get("addressLine3"),
            city=raw.get("city"),
            county=raw.get("county"),
            district=raw.get("district"),
            state_or_region=raw.get("stateOrRegion"),
            # Invoices spell it postalOrZipCode; the other APIs postalCode.
            postal_code=raw.get("postalCode") or raw.get("postalOrZipCode"),
            phone=raw.get("phone"),
        )

    def to_json(self, *, postal_code_key: str = "postalCode") -> dict:
        data = {
            "name": self.name,
            "addressLine1": self.address_line1,
            "addressLine2": self.address_line2,
            "addressLine3": self.address_line3,
            "city": self.city,
            "county": self.county,
            "district": self.district,
            "stateOrRegion": self.state_or_region,
            postal_code_key: self.postal_code,
            "countryCode": self.country_code,
            "phone": self.phone,
        }
        return {key: value for key, value in data.items() if value is not None}


@dataclass(frozen=True)
class Party:
    party_id: str
    address: Address | None = None
    tax_registrations: tuple[TaxRegistration, ...] = ()

    @classmethod
    def parse(cls, raw: dict | None) -> Party | None:
        if not raw:
            return None
        registrations = [
            TaxRegistration.parse(item) for item in raw.get("taxRegistrationDetails") or []
        ]
        if raw.get("taxInfo"):
            registrations.append(TaxRegistration.parse(raw["taxInfo"]))
        return cls(
            party_id=raw.get("partyId", ""),
            address=Address.parse(raw.get("address")),
            tax_registrations=tuple(registrations),
        )

    def to_json(self, *, tax_style: str = "list", postal_code_key: str = "postalCode") -> dict:
        """Orders carry one ``taxInfo``; Shipments and Invoices a list of them."""
        data: dict[str, Any] = {"partyId": self.party_id}
        if self.address:
            data["address"] = self.address.to_json(postal_code_key=postal_code_key)
        if self.tax_registrations:
            if tax_style == "single":
                data["taxInfo"] = self.tax_registrations[0].to_json()
            else:
                data["taxRegistrationDetails"] = [tax.to_json() for tax in self.tax_registrations]
        return data


@dataclass(frozen=True)
class TransactionReceipt:
    """Amazon accepted a POST for processing: poll getTransaction with this id."""

    transaction_id: str
    request_id: str | None
