"""SP-API hosts, the LWA token endpoint and the marketplace table.

Source: ../shared/docs/spapi-vendor.md sections 1.1-1.3 (Amazon's
"SP-API endpoints" and "Marketplace IDs" pages). Paths are the same in every
region; the host follows the vendor account's marketplace.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"  # noqa: S105 (a URL, not a secret)


class Region(enum.StrEnum):
    NA = "NA"
    EU = "EU"
    FE = "FE"


PRODUCTION_HOSTS: dict[Region, str] = {
    Region.NA: "https://sellingpartnerapi-na.amazon.com",
    Region.EU: "https://sellingpartnerapi-eu.amazon.com",
    Region.FE: "https://sellingpartnerapi-fe.amazon.com",
}
AMAZON_SANDBOX_HOSTS: dict[Region, str] = {
    Region.NA: "https://sandbox.sellingpartnerapi-na.amazon.com",
    Region.EU: "https://sandbox.sellingpartnerapi-eu.amazon.com",
    Region.FE: "https://sandbox.sellingpartnerapi-fe.amazon.com",
}


@dataclass(frozen=True)
class Marketplace:
    marketplace_id: str
    country_code: str  # ISO 3166 alpha-2 (Amazon says "UK", ISO says GB)
    region: Region
    currency_code: str


_MARKETPLACE_ROWS = [
    ("A2EUQ1WTGCTBG2", "CA", Region.NA, "CAD"),
    ("ATVPDKIKX0DER", "US", Region.NA, "USD"),
    ("A1AM78C64UM0Y8", "MX", Region.NA, "MXN"),
    ("A2Q3Y263D00KWC", "BR", Region.NA, "BRL"),
    ("A28R8C7NBKEWEA", "IE", Region.EU, "EUR"),
    ("A1RKKUPIHCS9HS", "ES", Region.EU, "EUR"),
    ("A1F83G8C2ARO7P", "GB", Region.EU, "GBP"),
    ("A13V1IB3VIYZZH", "FR", Region.EU, "EUR"),
    ("AMEN7PMS3EDWL", "BE", Region.EU, "EUR"),
    ("A1805IZSGTT6HS", "NL", Region.EU, "EUR"),
    ("A1PA6795UKMFR9", "DE", Region.EU, "EUR"),
    ("APJ6JRA9NG5V4", "IT", Region.EU, "EUR"),
    ("A2NODRKZP88ZB9", "SE", Region.EU, "SEK"),
    ("AE08WJ6YKNBMC", "ZA", Region.EU, "ZAR"),
    ("A1C3SOZRARQ6R3", "PL", Region.EU, "PLN"),
    ("A17E79C6D8DWNP", "SA", Region.EU, "SAR"),
    ("ARBP9OOSHTCHU", "EG", Region.EU, "EGP"),
    ("A33AVAJ2PDY3EV", "TR", Region.EU, "TRY"),
    ("A2VIGQ35RCS4UG", "AE", Region.EU, "AED"),
    ("A21TJRUUN4KGV", "IN", Region.EU, "INR"),
    ("A19VAU5U5O7RUS", "SG", Region.FE, "SGD"),
    ("A39IBJ37TRP1C6", "AU", Region.FE, "AUD"),
    ("A1VC38T7YXB528", "JP", Region.FE, "JPY"),
]
MARKETPLACES: dict[str, Marketplace] = {
    row[0]: Marketplace(
        marketplace_id=row[0], country_code=row[1], region=row[2], currency_code=row[3]
    )
    for row in _MARKETPLACE_ROWS
}


class UnknownMarketplace(LookupError):
    pass


def marketplace_get(*, marketplace_id: str) -> Marketplace:
    try:
        return MARKETPLACES[marketplace_id]
    except KeyError:
        raise UnknownMarketplace(f"Unknown Amazon marketplace id {marketplace_id!r}.") from None


@dataclass(frozen=True)
class Endpoint:
    """Where one vendor account's calls go.

    ``base_url`` overrides the regional host (the local sandbox, a proxy);
    ``token_url`` overrides the LWA endpoint likewise.
    """

    region: Region
    use_amazon_sandbox: bool = False
    base_url: str | None = None
    token_url: str | None = None

    @property
    def api_base_url(self) -> str:
        if self.base_url:
            return self.base_url.rstrip("/")
        hosts = AMAZON_SANDBOX_HOSTS if self.use_amazon_sandbox else PRODUCTION_HOSTS
        return hosts[self.region]

    @property
    def lwa_token_url(self) -> str:
        return self.token_url or LWA_TOKEN_URL

    @classmethod
    def local_sandbox(cls, *, base_url: str, region: Region = Region.NA) -> Endpoint:
        """The ACORN sandbox serves SP-API paths at its root and LWA at /auth/o2/token."""
        base = base_url.rstrip("/")
        return cls(region=region, base_url=base, token_url=f"{base}/auth/o2/token")
