"""The stores file: which stores exist, how each is reached, priced and titled.

One YAML file (``SYNC_STORES_FILE``) lists every store; adding a store is an edit of that file,
never of code. Secrets are never in the file: ``credentials`` maps each credential the platform
needs to the *name* of an environment variable that holds it.
"""

from __future__ import annotations

import os
import re
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sync_pipeline.platforms.registry import platform_spec
from sync_pipeline.platforms.spec import Platform as Platform  # re-exported: the stores file names it

DEMO_STORES_FILE = Path(__file__).with_name("stores_demo.yaml")
_HANDLE = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


Rounding = Literal["none", "cents", "99", "95", "whole"]

# What an environment-variable name looks like by convention. Tokens and keys are lowercase, mixed
# case or start with a digit, so a secret pasted here by mistake fails this and is refused unseen.
ENV_VAR_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,127}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PriceRule(_Strict):
    """store price = clamp(round((base x fx_rate) x multiplier + add_on))."""

    multiplier: Decimal | None = None  # None: the platform's default (its spec's default_multiplier)
    add_on: Decimal = Decimal("0")
    rounding: Rounding = "cents"
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    fx_rate: Decimal = Decimal("1")  # catalog currency -> store currency

    @field_validator("multiplier", "fx_rate")
    @classmethod
    def _positive(cls, v: Decimal | None) -> Decimal | None:
        if v is not None and v <= 0:
            raise ValueError("must be greater than 0")
        return v

    @field_validator("min_price", "max_price")
    @classmethod
    def _not_negative(cls, v: Decimal | None) -> Decimal | None:
        if v is not None and v < 0:
            raise ValueError("must not be negative")
        return v

    @model_validator(mode="after")
    def _clamp_order(self) -> PriceRule:
        if self.min_price is not None and self.max_price is not None and self.min_price > self.max_price:
            raise ValueError("min_price is greater than max_price")
        return self


class TitleRule(_Strict):
    """SEO title variant: similarity to the master title must stay inside [min, max]."""

    min_similarity: float = 0.70
    max_similarity: float = 0.80
    max_length: int | None = None  # None: the platform's own limit

    @model_validator(mode="after")
    def _band(self) -> TitleRule:
        if not 0 < self.min_similarity <= self.max_similarity < 1:
            raise ValueError("need 0 < min_similarity <= max_similarity < 1")
        return self


class StockBuffer(_Strict):
    """Stock a store holds back from Magento's salable quantity (see ``listings/stock.py``).

    listed = 0 when salable < ``floor``, else min(cap, salable - keep_units - ceil(salable x keep_share)),
    never below 0. With nothing set the store shows the salable quantity itself.
    """

    keep_units: int = Field(default=0, ge=0)  # units never offered on this store
    keep_share: Decimal = Field(default=Decimal("0"), ge=0, lt=1)  # share of the salable qty kept back
    cap: int | None = Field(default=None, ge=0)  # never show more than this
    floor: int = Field(default=0, ge=0)  # show 0 when fewer than this remain in Magento


class Backorders(_Strict):
    """What a store shows of a product Magento sells on backorder once its salable quantity is gone.

    ``list: false`` (the default): not listed, the stores never sell what is not there; ``list:
    true`` with ``quantity``: listed with that many units (e.g. a made-to-order lead time the store
    can honour). Magento's own flag decides which products take backorders at all.
    """

    list: bool = False
    quantity: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _quantity_when_listed(self) -> Backorders:
        if self.list and self.quantity < 1:
            raise ValueError("backorders: list: true needs a quantity of 1 or more to show")
        return self


class RateLimit(_Strict):
    """Overrides of the platform's default limits (Shopify cost bucket, requests/s elsewhere)."""

    requests_per_second: float | None = None
    bucket_size: int | None = None  # Shopify: points
    restore_rate: float | None = None  # Shopify: points per second


WeightUnit = Literal["KILOGRAM", "POUND", "GRAM"]
DimensionUnit = Literal["CENTIMETER", "INCH"]


class AttributeSource(_Strict):
    """Where one platform attribute's value comes from (``mapping.attributes``)."""

    magento: str | None = None  # Magento attribute code, e.g. material
    values: dict[str, str] = Field(default_factory=dict)  # Magento option label -> platform value id
    default: str | None = None  # when the product has no value (every category)
    # The Magento value is one typed-in text (a text/textarea attribute), sent whole as a custom
    # value, never split at ", " as a multiselect's labels are.
    free_text: bool = False

    @model_validator(mode="after")
    def _free_text_has_source(self) -> AttributeSource:
        if self.free_text and (self.magento is None or self.values):
            raise ValueError("free_text needs magento (the attribute code) and takes no values: "
                             "a typed-in text has no option labels to map")
        return self


class BrandSource(_Strict):
    magento: str | None = None  # e.g. manufacturer
    values: dict[str, str] = Field(default_factory=dict)  # Magento label -> platform brand id
    default: str | None = None  # a brand name or id; "No Brand" (id 0) where the category allows it


class SizeChart(_Strict):
    template_id: str | None = None
    image: str | None = None  # URL of the chart image (uploaded by the client)

    @model_validator(mode="after")
    def _one(self) -> SizeChart:
        if (self.template_id is None) == (self.image is None):
            raise ValueError("size_chart needs exactly one of template_id or image")
        return self


class CertificationSource(_Strict):
    id: str = Field(min_length=1)  # the platform's certification id (from the category's rules)
    images: tuple[str, ...] = ()  # URLs of the certificate's images


class Dimensions(_Strict):
    length: Decimal = Field(gt=0)
    width: Decimal = Field(gt=0)
    height: Decimal = Field(gt=0)


class ShippingChannelChoice(_Strict):
    """A Shopee logistics channel the listings use (ids from get_channel_list)."""

    channel_id: str = Field(min_length=1)
    size_id: str | None = None  # SIZE_SELECTION channels
    shipping_fee: Decimal | None = Field(default=None, ge=0)  # CUSTOM_PRICE channels


class CategoryDefaults(_Strict):
    """Per platform category: values for what the catalog lacks."""

    attributes: dict[str, str] = Field(default_factory=dict)  # platform attribute -> value (", " separates several)
    brand: str | None = None
    size_chart: SizeChart | None = None
    certifications: tuple[CertificationSource, ...] = ()
    dimensions: Dimensions | None = None
    # Cash on delivery in this category: true asks for it (held back where the category's rules do not
    # support it), false turns the store-wide mapping.cod off here; None follows mapping.cod.
    cod: bool | None = None


class PackageMapping(_Strict):
    weight_unit: WeightUnit = "KILOGRAM"  # the unit of Magento's weight in this store's catalog
    dimension_unit: DimensionUnit = "CENTIMETER"
    dimensions: Dimensions | None = None  # default for every category (a category's own wins)
    magento_dimensions: dict[Literal["length", "width", "height"], str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_system(self) -> PackageMapping:
        # TikTok (real-stores 1.2): weight and dimensions in one unit system.
        if (self.weight_unit == "POUND") != (self.dimension_unit == "INCH"):
            raise ValueError("weight_unit and dimension_unit must be one system: POUND with INCH, "
                             "KILOGRAM or GRAM with CENTIMETER")
        return self


class ListingMapping(_Strict):
    """How this store's marketplace categories are fed from the catalog (README: Mapping a new store)."""

    attributes: dict[str, AttributeSource] = Field(default_factory=dict)  # platform attribute name or id
    brand: BrandSource | None = None
    package: PackageMapping = PackageMapping()
    shipping: tuple[ShippingChannelChoice, ...] = ()
    categories: dict[str, CategoryDefaults] = Field(default_factory=dict)  # platform category id -> defaults
    cod: bool = False  # offer cash on delivery wherever the category's rules support it (TikTok is_cod_allowed)
    # variant axis as the listing names it (e.g. "Color") -> the platform's standard variation name
    # (e.g. Shopee "Colour"); an axis not named here is matched by its own name
    variations: dict[str, str] = Field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return self == ListingMapping()


class StoreConfig(_Strict):
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    platform: Platform
    name: str
    endpoint: str  # base URL: the real platform host, or the local sandbox
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    credentials: dict[str, str] = Field(default_factory=dict)  # credential -> env var NAME
    settings: dict[str, Any] = Field(default_factory=dict)  # platform ids: shop domain, shop_id, cipher...
    price_rule: PriceRule = PriceRule()
    title_rule: TitleRule = TitleRule()
    category_map: dict[str, str] = Field(default_factory=dict)  # Magento category path -> platform id
    default_category: str | None = None
    limits: dict[str, int] = Field(default_factory=dict)  # overrides of platform limits
    rate_limit: RateLimit = RateLimit()
    # Seconds each call may take to connect and to answer; unset: SYNC_HTTP_TIMEOUT_SECONDS, else 30.
    http_timeout_seconds: float | None = Field(default=None, gt=0)
    owned_fields: tuple[str, ...] = ()  # fields the store manages after creation; never overwritten
    handles: dict[str, str] = Field(default_factory=dict)  # SKU -> handle pinned (e.g. an existing URL)
    rollout: tuple[int, ...] = ()  # staged rollout policy, e.g. (2, 10, 50): see push/rollout.py

    @field_validator("rollout")
    @classmethod
    def _rollout_grows(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if any(n < 1 for n in v) or any(b <= a for a, b in zip(v, v[1:], strict=False)):
            raise ValueError(f"rollout must be growing step sizes of at least 1, e.g. [2, 10, 50] (got {list(v)})")
        return v

    @field_validator("handles")
    @classmethod
    def _handles_are_slugs(cls, v: dict[str, str]) -> dict[str, str]:
        bad = [sku for sku, handle in v.items() if not _HANDLE.fullmatch(handle)]
        if bad:
            raise ValueError(
                "handles must be lowercase letters, digits and single hyphens (e.g. blue-tee): "
                + ", ".join(sorted(bad))
            )
        return v
    stock_buffer: StockBuffer = StockBuffer()
    backorders: Backorders = Backorders()

    mapping: ListingMapping = ListingMapping()

    @model_validator(mode="after")
    def _mapped_categories_known(self) -> StoreConfig:
        known = set(self.category_map.values()) | ({self.default_category} if self.default_category else set())
        unknown = sorted(set(self.mapping.categories) - known)
        if unknown:
            raise ValueError(f"mapping.categories names categories no category_map entry uses: {', '.join(unknown)}")
        return self

    @model_validator(mode="after")
    def _cod_where_the_platform_has_it(self) -> StoreConfig:
        asked = ["mapping.cod"] if self.mapping.cod else []
        asked += [f"mapping.categories.{cid}.cod" for cid, d in self.mapping.categories.items() if d.cod is not None]
        if asked and not platform_spec(self.platform).cod_per_listing:
            raise ValueError(f"{', '.join(asked)}: {self.platform} listings have no cash-on-delivery setting "
                             "(TikTok Shop's is_cod_allowed is the only one): remove it")
        return self

    @field_validator("limits")
    @classmethod
    def _positive_limits(cls, v: dict[str, int]) -> dict[str, int]:
        bad = [name for name, value in v.items() if value < 1]
        if bad:
            raise ValueError(f"limits must be at least 1: {', '.join(sorted(bad))}")
        return v

    @property
    def multiplier(self) -> Decimal:
        return self.price_rule.multiplier or platform_spec(self.platform).default_multiplier

    @field_validator("credentials")
    @classmethod
    def _credentials_are_names(cls, v: dict[str, str]) -> dict[str, str]:
        # The message names the credential, never the value: it may be a secret pasted by mistake.
        bad = sorted(name for name, var in v.items() if not isinstance(var, str) or not ENV_VAR_NAME.match(var))
        if bad:
            raise ValueError(f"{', '.join(bad)}: must name an environment variable (A-Z, 0-9, _), "
                             "not hold the secret itself; the value is not repeated here")
        return v

    @model_validator(mode="after")
    def _credentials_named(self) -> StoreConfig:
        choices = platform_spec(self.platform).required_credentials
        gaps = [[c for c in choice if c not in self.credentials] for choice in choices]
        if all(gaps):
            wanted = " or ".join(", ".join(gap) for gap in gaps)
            raise ValueError(f"credentials must name an environment variable for: {wanted}")
        return self

    def credential(self, name: str) -> str:
        """The secret's value from the environment; a clear error names the variable, never a value."""
        var = self.credentials.get(name)
        if var is None:
            raise MissingCredentialError(f"store '{self.key}': no environment variable configured for '{name}'")
        value = os.environ.get(var)
        if not value:
            raise MissingCredentialError(
                f"store '{self.key}': environment variable {var} (credential '{name}') is not set"
            )
        return value


class StoresFile(_Strict):
    stores: tuple[StoreConfig, ...]

    @model_validator(mode="after")
    def _unique_keys(self) -> StoresFile:
        seen: set[str] = set()
        for store in self.stores:
            if store.key in seen:
                raise ValueError(f"duplicate store key '{store.key}'")
            seen.add(store.key)
        return self

    def by_key(self, key: str) -> StoreConfig:
        for store in self.stores:
            if store.key == key:
                return store
        raise KeyError(f"no store with key '{key}' (known: {', '.join(self.keys())})")

    def keys(self) -> list[str]:
        return [s.key for s in self.stores]


class StoresFileError(ValueError):
    """The stores file cannot be used; the message names the file, the store and the field."""


class MissingCredentialError(RuntimeError):
    """A store's credential variable is unset: only that store's runs fail."""


def stores_file_path() -> Path:
    return Path(os.environ.get("SYNC_STORES_FILE") or DEMO_STORES_FILE)


def load_stores(path: Path | str | None = None) -> StoresFile:
    """Parse and validate the stores file, turning every problem into one readable error."""
    file = Path(path) if path is not None else stores_file_path()
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise StoresFileError(f"{file}: cannot read stores file: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise StoresFileError(f"{file}: not valid YAML: {_yaml_problem(exc)}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("stores"), list):
        raise StoresFileError(f"{file}: expected a top-level 'stores:' list")
    problems = _repeated_fields(file.read_text(encoding="utf-8")) + _duplicate_keys(raw["stores"])
    try:
        stores = StoresFile.model_validate(raw)
    except ValidationError as exc:
        problems += _describe(raw["stores"], exc)
    if problems:
        raise StoresFileError(f"{file}: " + "; ".join(problems))
    return stores


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """Where the YAML is broken, without the offending text (it may be a secret on that line)."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or type(exc).__name__
    return f"{problem} at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else str(problem)


def _repeated_fields(text: str) -> list[str]:
    """Fields said twice inside one store. YAML loaders keep the last value silently, so a store
    could run with a price rule nobody meant; the file must say each field once."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if not isinstance(root, yaml.MappingNode):
        return []
    problems: list[str] = []
    for key_node, value_node in root.value:
        if key_node.value == "stores" and isinstance(value_node, yaml.SequenceNode):
            for number, store_node in enumerate(value_node.value, start=1):
                problems += _repeats_in(store_node, _store_name(store_node, number), "")
    return problems


def _store_name(node: yaml.Node, number: int) -> str:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.value == "key" and isinstance(value_node, yaml.ScalarNode):
                return f"store '{value_node.value}'"
    return f"store #{number}"


def _repeats_in(node: yaml.Node, where: str, prefix: str) -> list[str]:
    if isinstance(node, yaml.SequenceNode):
        return [p for item in node.value for p in _repeats_in(item, where, prefix)]
    if not isinstance(node, yaml.MappingNode):
        return []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for key_node, value_node in node.value:
        name = f"{prefix}{key_node.value}"
        line = key_node.start_mark.line + 1
        if name in seen:
            problems.append(f"{where}, field '{name}': given twice (lines {seen[name]} and {line}); "
                            "say each field once")
        else:
            seen[name] = line
        problems += _repeats_in(value_node, where, f"{name}.")
    return problems


def _duplicate_keys(stores: list[Any]) -> list[str]:
    """Duplicate keys, found before validation so they are reported with every other problem."""
    positions: dict[str, list[int]] = {}
    for number, entry in enumerate(stores, start=1):
        if isinstance(entry, dict) and isinstance(entry.get("key"), str):
            positions.setdefault(entry["key"], []).append(number)
    return [
        f"store '{key}' (entries {', '.join(f'#{n}' for n in numbers)}), field 'key': duplicate store key"
        for key, numbers in positions.items()
        if len(numbers) > 1
    ]


def _describe(stores: list[Any], exc: ValidationError) -> list[str]:
    """One line per problem: which store (by key, else by position), which field, what is wrong."""
    lines = []
    for err in exc.errors():
        loc = list(err["loc"])
        where = "file"
        if len(loc) >= 2 and loc[0] == "stores" and isinstance(loc[1], int):
            idx = loc[1]
            entry = stores[idx] if idx < len(stores) and isinstance(stores[idx], dict) else {}
            where = f"store '{entry['key']}'" if isinstance(entry.get("key"), str) else f"store #{idx + 1}"
            loc = loc[2:]
        elif err["type"] == "value_error" and "duplicate store key" in err["msg"]:
            continue  # already reported, with the entries' positions, by _duplicate_keys
        field = ".".join(str(p) for p in loc) or "(store)"
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] != "missing" and isinstance(err.get("input"), str | int | float) and loc[:1] != ["credentials"]:
            message = f"{message} (got {err['input']!r})"
        lines.append(f"{where}, field '{field}': {message}")
    return lines
