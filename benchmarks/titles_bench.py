"""Title quality on real-world product names: band share per platform, identical titles across
platforms, type nouns kept, and sample titles side by side.

    .venv/bin/python -m benchmarks.titles_bench            # figures + 20 samples
    .venv/bin/python -m benchmarks.titles_bench --all      # every title

The names (``benchmarks/data/product_names.tsv``) are written the way shop catalogs hold them:
brand first, model numbers, sizes, commas, parentheses, "with ..." phrases and HTML entities.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

from sync_pipeline.listings.titles import (
    PLATFORM_TITLE_MAX,
    TitleFacts,
    TitleLimits,
    band_reachable,
    clean_master,
    normalize,
    seo_title,
    similarity,
    type_noun,
)
from sync_pipeline.stores import Platform

NAMES = Path(__file__).parent / "data" / "product_names.tsv"


@dataclass(frozen=True)
class Product:
    name: str
    facts: TitleFacts


def load_products(path: Path = NAMES) -> list[Product]:
    products = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, brand, color, material, audience, category = (line.split("\t") + [""] * 6)[:6]
        facts = TitleFacts(color=color or None, material=material or None, brand=brand or None,
                           audience=audience or None, category=category or None, sku=f"SKU{len(products)}")
        products.append(Product(name, facts))
    return products


@dataclass(frozen=True)
class Figures:
    products: int
    eligible: int  # masters long enough for the band
    in_band: dict[Platform, int]
    identical: int  # products with two platforms' titles equal
    noun_missing: int
    seconds: float

    def share(self, platform: Platform) -> float:
        return self.in_band[platform] / self.eligible if self.eligible else 1.0


def measure(products: list[Product]) -> tuple[Figures, list[tuple[str, dict[Platform, str]]]]:
    in_band = dict.fromkeys(Platform, 0)
    eligible = identical = noun_missing = 0
    rows = []
    started = time.perf_counter()
    for product in products:
        titles = {p: seo_title(product.name, p, product.facts, TitleLimits(max_length=PLATFORM_TITLE_MAX[p]))
                  for p in Platform}
        rows.append((product.name, {p: t.title for p, t in titles.items()}))
        if len({normalize(t.title) for t in titles.values()}) < len(titles):
            identical += 1
        noun = type_noun(product.name)
        if noun and any(noun.casefold() not in normalize(t.title) for t in titles.values()):
            noun_missing += 1
        if band_reachable(product.name):
            eligible += 1
            for platform, title in titles.items():
                in_band[platform] += 0.70 <= similarity(product.name, title.title) <= 0.80
    seconds = time.perf_counter() - started
    return Figures(len(products), eligible, in_band, identical, noun_missing, seconds), rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--all", action="store_true", help="print every product's titles")
    parser.add_argument("--samples", type=int, default=20)
    args = parser.parse_args()
    products = load_products()
    figures, rows = measure(products)
    print(f"{figures.products} products, {figures.eligible} long enough for the 70-80% band "
          f"({figures.seconds * 1000:.0f} ms for all titles)")
    for platform in Platform:
        print(f"  {platform.value:8} in band: {figures.in_band[platform]}/{figures.eligible} "
              f"= {figures.share(platform):.1%}")
    print(f"  identical across platforms: {figures.identical}; type noun missing: {figures.noun_missing}")
    step = max(1, len(rows) // args.samples)
    shown = rows if args.all else rows[::step][: args.samples]
    for name, titles in shown:
        print(f"\nmaster   {clean_master(name)}")
        for platform, title in titles.items():
            print(f"{platform.value:8} {title}  ({similarity(name, title):.2f})")


if __name__ == "__main__":
    main()
