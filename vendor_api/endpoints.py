"""SP-API hosts, the LWA token endpoint and the marketplace table.

Source: ../shared/docs/spapi-vendor.md sections 1.1-1.3 (Amazon's
"SP-API endpoints" and "Marketplace IDs" pages). Paths are the same in every
region; the host follows the vendor account's marketplace.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from vendor_api.errors import EndpointNotAllowed

LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"  # noqa: S105 (a URL, not a secret)
# LWA's documented hosts (North America, Europe, Far East). SP-API's docs
# use api.amazon.com for every region; the other two are LWA's regional
# endpoints for the same OAuth service.
AMAZON_LWA_HOSTS = frozenset({"api.amazon.com", "api.amazon.co.uk", "api.amazon.co.jp"})


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


# Every documented SP-API host, production and Amazon's sandbox.
AMAZON_SPAPI_HOSTS = frozenset(
    urlsplit(url).hostname for url in (*PRODUCTION_HOSTS.values(), *AMAZON_SANDBOX_HOSTS.values())
)


def url_allowed(url: str, *, amazon_hosts: Iterable[str], allowlist: Iterable[str] = ()) -> bool:
    """May the server send credentials (and requests) to ``url``?

    Yes for HTTPS on port 443 to one of ``amazon_hosts``, and for a URL
    whose origin an ``allowlist`` entry names: ``scheme://host[:port]``,
    where the port may be ``*`` (any port; for a sandbox on a random port)
    and an omitted port means the scheme's default. Credentials in the URL
    are never allowed.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    if parts.username or parts.password or not parts.hostname:
        return False
    host = parts.hostname.lower()
    default_port = {"https": 443, "http": 80}.get(parts.scheme)
    if default_port is None:
        return False
    port = port or default_port
    if parts.scheme == "https" and port == 443 and host in amazon_hosts:
        return True
    for entry in allowlist:
        scheme, _sep, rest = entry.strip().partition("://")
        entry_host, _colon, entry_port = rest.rstrip("/").partition(":")
        if scheme.lower() != parts.scheme or entry_host.lower() != host:
            continue
        if entry_port == "*":
            return True
        wanted = int(entry_port) if entry_port.isdigit() else (
            None if entry_port else default_port)
        if wanted == port:
            return True
    return False


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

    def check_allowed(self, *, allowlist: Iterable[str] = ()) -> Endpoint:
        """Raise ``EndpointNotAllowed`` unless both URLs are Amazon's
        documented hosts or allow-listed; the check that keeps credentials
        (and the server's requests) away from arbitrary addresses."""
        allowlist = tuple(allowlist)
        if not url_allowed(self.api_base_url, amazon_hosts=AMAZON_SPAPI_HOSTS,
                           allowlist=allowlist):
            raise EndpointNotAllowed(
                f"The SP-API endpoint {self.api_base_url} is neither an Amazon host "
                "nor in ACORN_SPAPI_ENDPOINT_ALLOWLIST.", operation="endpoint")
        if not url_allowed(self.lwa_token_url, amazon_hosts=AMAZON_LWA_HOSTS,
                           allowlist=allowlist):
            raise EndpointNotAllowed(
                f"The LWA token endpoint {self.lwa_token_url} is neither an Amazon host "
                "nor in ACORN_SPAPI_ENDPOINT_ALLOWLIST.", operation="endpoint")
        return self

    @classmethod
    def local_sandbox(cls, *, base_url: str, region: Region = Region.NA) -> Endpoint:
        """The ACORN sandbox serves SP-API paths at its root and LWA at /auth/o2/token."""
        base = base_url.rstrip("/")
        return cls(region=region, base_url=base, token_url=f"{base}/auth/o2/token")
