"""SEO titles: per platform, a deterministic variant of the master title.

**Metric.** ``similarity(a, b) = rapidfuzz.fuzz.ratio(norm(a), norm(b)) / 100`` where ``norm``
applies NFKC, casefolds and collapses whitespace. ``fuzz.ratio`` is the normalised Indel
similarity (1 - insertions+deletions / total length): it counts every character added, removed
*or moved*, so a title that only reorders its words is not "100 % similar" the way
``token_sort_ratio`` would score it, and one that only appends words does not score 100 % the way
``token_set_ratio`` would. It therefore measures how different the title *reads*, which is what
the 70-80 % band is about (close enough to be the same product, different enough not to be a
duplicate listing). The reference is the master title after HTML entities are decoded and tags
stripped, the same text a shopper would see.

**Search.** Candidates come from a few deterministic transformations of the master, gentlest
first (as written; "and" as "&"; filler words removed; tail words dropped from long titles;
for Shopee the product noun moved first), each combined with the platform-typical qualifiers
(colour, material, audience, category - taken from the product itself) whose length should bring
the similarity closest to the band's centre. The first candidate, in that fixed order, within
``CENTRE_TOLERANCE`` of the centre is chosen; failing that, the one closest to the centre (ties:
the earlier). When no candidate lands in the band (very short titles), the best readable one is
returned with the reason ``title_similarity_out_of_band: 0.64`` - never a faked score.

**Distinct across platforms, by construction.** Each platform has its own separator between the
product words and the qualifiers: Shopify ``Core | Qualifiers``; TikTok ``Core, Qualifiers`` and
never a ``|``; Shopee ``Core Qualifiers`` with neither ``|`` nor ``,``. Two platforms' titles can
therefore never be equal, without either one having to compute the other's. Two stores of the
same platform with the same rule get the same title.

**Clean.** Entities are decoded (``&trade;`` -> ``™``), tags and control characters removed.
Emoji and pictographs are removed everywhere (noise in search results; Shopee and TikTok reject
them); trademark signs (``™``, ``®``) stay on Shopify only. TikTok also rejects Chinese characters. Promotional phrases the marketplaces refuse ("free shipping", ...)
are removed. Truncation only ever happens at word boundaries.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations

from rapidfuzz import fuzz

from sync_pipeline.stores import Platform

SIMILARITY_METRIC = "rapidfuzz.fuzz.ratio/100 on NFKC-casefolded, whitespace-collapsed text"
CENTRE_TOLERANCE = 0.02
SUFFIXES_PER_CORE = 3
OUT_OF_BAND = "title_similarity_out_of_band"
TITLE_EMPTY = "title_empty"
TITLE_TOO_SHORT = "title_too_short"

PLATFORM_TITLE_MAX: dict[Platform, int] = {Platform.SHOPIFY: 255, Platform.SHOPEE: 120, Platform.TIKTOK: 255}
# TikTok: 25 in most regions (1 in US/UK/EU/JP); Shopee: per shop (get_item_limit). Override per store
# with ``limits: {title_min_length: N}``.
PLATFORM_TITLE_MIN: dict[Platform, int] = {Platform.SHOPIFY: 1, Platform.SHOPEE: 1, Platform.TIKTOK: 25}

FILLER_WORDS = frozenset({"a", "an", "the", "and", "with", "for", "of", "in", "on", "by", "to", "new"})
PROMOTIONAL_PHRASES = ("free shipping", "free delivery", "best seller", "best price", "hot sale", "cheapest")

_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
_CJK = re.compile(r"[\u2e80-\u2fdf\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_PROMO = re.compile(r"\b(?:" + "|".join(re.escape(p) for p in PROMOTIONAL_PHRASES) + r")\b", re.IGNORECASE)
_TRAILING_JUNK = set(FILLER_WORDS) | {"&", "-", "|", ",", "/", "+"}
_MARKS = "™®©℠"  # trademark signs: fine on Shopify, rejected as symbols by Shopee and TikTok
_SEPARATOR = {Platform.SHOPIFY: " | ", Platform.TIKTOK: ", ", Platform.SHOPEE: " "}


@dataclass(frozen=True)
class TitleFacts:
    """What a title may add to the master, all taken from the product (never from the store)."""

    color: str | None = None
    material: str | None = None
    audience: str | None = None  # e.g. "Men", from the top of the category path
    category: str | None = None  # e.g. "Tops", the deepest category name
    sku: str = ""  # last-resort qualifier when the product offers nothing else


@dataclass(frozen=True)
class TitleLimits:
    min_length: int = 1
    max_length: int = 255
    min_similarity: float = 0.70
    max_similarity: float = 0.80

    @property
    def centre(self) -> float:
        return (self.min_similarity + self.max_similarity) / 2


@dataclass(frozen=True)
class SeoTitle:
    title: str
    similarity: float
    reasons: tuple[str, ...] = ()  # empty when in the band and within the length limits

    @property
    def in_band(self) -> bool:
        return not any(r.startswith(OUT_OF_BAND) for r in self.reasons)


# -- text cleaning ----------------------------------------------------------------------------


def clean_master(raw: str) -> str:
    """The master title as a shopper reads it: entities decoded, tags and control chars gone."""
    text = html.unescape(html.unescape(raw or ""))  # Magento imports are sometimes double-encoded
    text = _TAG.sub(" ", text)
    if not (text.isascii() and text.isprintable()):
        text = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in text)
    return _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def clean_for_platform(text: str, platform: Platform) -> str:
    """``text`` without the characters and phrases ``platform`` rejects."""
    if not text.isascii():
        kept = _MARKS if platform is Platform.SHOPIFY else ""
        text = "".join(ch for ch in text if ch in kept or not _is_symbol(ch))
    if platform in (Platform.SHOPEE, Platform.TIKTOK):
        text = _PROMO.sub(" ", text)
    if platform is Platform.TIKTOK and not text.isascii():
        text = _CJK.sub(" ", text)
    if platform is not Platform.SHOPIFY:
        text = text.replace("|", " ")  # Shopify's separator: keeps the platforms' titles apart
    if platform is Platform.SHOPEE:
        text = text.replace(",", " ")  # TikTok's separator
    return _SPACE.sub(" ", text).strip()


def forbidden_characters(title: str, platform: Platform) -> list[str]:
    """Characters in ``title`` that ``platform`` rejects (used by the checks)."""
    kept = _MARKS if platform is Platform.SHOPIFY else ""
    bad = [ch for ch in title if unicodedata.category(ch)[0] == "C" or (_is_symbol(ch) and ch not in kept)]
    if platform is Platform.TIKTOK:
        bad += _CJK.findall(title)
    return bad


def _is_symbol(ch: str) -> bool:
    # So: emoji, ™ ® ©; Sk: skin tones and modifiers; Cf/Mn: joiners and variation selectors
    # that glue emoji together.
    return unicodedata.category(ch) in ("So", "Sk", "Cs", "Co", "Cn") or ch in "\u200d\ufe0e\ufe0f"


def normalize(text: str) -> str:
    if text.isascii():
        return _SPACE.sub(" ", text.lower()).strip()
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def similarity(master: str, title: str) -> float:
    """The documented metric: ``fuzz.ratio`` of both normalized texts, as a fraction.

    ``master`` is the catalog's raw title; it is cleaned exactly as ``seo_title`` cleans it, so
    the checks measure against the same reference the titles were made for (a raw ``&trade;``
    or emoji would otherwise move the score).
    """
    return float(fuzz.ratio(normalize(clean_master(master)), normalize(title))) / 100.0


# -- candidate search -------------------------------------------------------------------------


def seo_title(master: str, platform: Platform, facts: TitleFacts, limits: TitleLimits) -> SeoTitle:
    """The title ``platform`` lists the product under (see the module docstring)."""
    reference = clean_master(master)
    words = clean_for_platform(reference, platform).split()
    if not words:
        return SeoTitle("", 0.0, (TITLE_EMPTY,))
    target = normalize(reference)
    best: tuple[float, str, float] | None = None  # (distance to the band's centre, title, similarity)
    centre = limits.centre
    for candidate in _candidates(words, target, platform, facts, limits):
        score = _score(target, candidate)
        distance = _distance(score, limits)
        if best is None or distance < best[0]:
            best = (distance, candidate, score)
        if abs(score - centre) <= CENTRE_TOLERANCE:
            break  # candidates come gentlest first: the first one this close is the one to keep
    if best is None:  # nothing fits the length limits: the words alone, cut at a word boundary
        title = _fit(words, limits.max_length) or words[0][: limits.max_length]
        best = (0.0, title, _score(target, title))
    _, title, score = best
    return SeoTitle(title, round(score, 4), _reasons(title, score, limits))


def _score(normalized_master: str, title: str) -> float:
    # Candidates are built from single-spaced words: ASCII ones only need lower-casing.
    candidate = title.lower() if title.isascii() else normalize(title)
    return float(fuzz.ratio(normalized_master, candidate)) / 100.0


def _distance(score: float, limits: TitleLimits) -> float:
    """Distance to the band's centre inside the band; outside it, 1 + distance to its edge."""
    if limits.min_similarity <= score <= limits.max_similarity:
        return abs(score - limits.centre)
    edge = limits.min_similarity if score < limits.min_similarity else limits.max_similarity
    return 1.0 + abs(score - edge)


def _reasons(title: str, score: float, limits: TitleLimits) -> tuple[str, ...]:
    reasons = []
    if not limits.min_similarity <= score <= limits.max_similarity:
        reasons.append(f"{OUT_OF_BAND}: {score:.2f}")
    if len(title) < limits.min_length:
        reasons.append(f"{TITLE_TOO_SHORT}: {len(title)} < {limits.min_length}")
    return tuple(reasons)


def _candidates(
    words: list[str], target: str, platform: Platform, facts: TitleFacts, limits: TitleLimits
) -> Iterator[str]:
    """Titles in order of preference: per core transformation (gentlest first), the qualifier
    sets whose length should bring the similarity nearest the band's centre.

    The estimate assumes added qualifier characters match nothing in the master, so the
    similarity of ``core + suffix`` is about ``2M / (len(master) + len(core) + len(suffix))``
    with ``M`` the matched characters of the bare core; the real score is then computed exactly.
    """
    separator = _SEPARATOR[platform]
    # (suffix, characters it adds with its separator); Shopee may also go without qualifiers
    suffixes = [(sfx, len(separator) + len(sfx)) for sfx in _suffix_options(_qualifiers(words, platform, facts))]
    if platform is Platform.SHOPEE:
        suffixes.insert(0, ("", 0))
    centre = limits.centre
    seen: set[str] = set()
    for core in _cores(words, platform):
        bare = " ".join(core)
        base_length = len(target) + len(bare)
        matched2 = _score(target, bare) * base_length  # 2M
        options = sorted(suffixes, key=lambda option: abs(matched2 / (base_length + option[1]) - centre))
        for suffix, _ in options[:SUFFIXES_PER_CORE]:
            title = _compose(core, suffix, platform, limits.max_length)
            if title and title not in seen and len(title) >= limits.min_length:
                seen.add(title)
                yield title


@lru_cache(maxsize=4096)
def _suffix_options(qualifiers: tuple[str, ...]) -> tuple[str, ...]:
    """Every non-empty ordered selection of up to three qualifiers, shortest selections first."""
    return tuple(" ".join(combo) for size in (1, 2, 3) for combo in combinations(qualifiers, size))


def _cores(words: list[str], platform: Platform) -> Iterator[list[str]]:
    """Transformations of the product words, from the gentlest to the strongest."""
    without_filler = [w for w in words if w.casefold() not in FILLER_WORDS] or words
    yield words
    if any(w.casefold() == "and" for w in words):
        yield ["&" if w.casefold() == "and" else w for w in words]
    if len(without_filler) < len(words):
        yield without_filler
    # Long titles: drop words from the end (the least specific in a long product title), keeping
    # at least 60 % of them and never fewer than three.
    for keep in range(len(without_filler) - 1, max(3, -(-len(without_filler) * 3 // 5)) - 1, -1):
        yield without_filler[:keep]
    if platform is Platform.SHOPEE and len(without_filler) > 1:
        yield [without_filler[-1], *without_filler[:-1]]  # the product noun first, keyword style


def _qualifiers(words: list[str], platform: Platform, facts: TitleFacts) -> tuple[str, ...]:
    """Platform-typical qualifier phrases, skipping what the title already says."""
    present = {form for w in words for form in _forms(w)}
    audience = facts.audience
    if platform is Platform.SHOPIFY:
        order = [facts.color, facts.material, facts.category, audience]
    elif platform is Platform.SHOPEE:
        order = [audience, facts.category, facts.color, facts.material]
    else:
        order = [facts.color, facts.material, facts.category, f"for {audience}" if audience else None]
    phrases = []
    for phrase in order:
        if not phrase:
            continue
        fresh = _clean_phrase(phrase, platform)
        if fresh in ((), ("for",)) or any(w != "for" and not present.isdisjoint(_forms(w)) for w in fresh):
            continue
        phrases.append(" ".join(fresh))
        present.update(form for w in fresh for form in _forms(w))
    if not phrases:
        sku = clean_for_platform(clean_master(facts.sku), platform)
        # "Item" only when the product offers nothing at all: a separator needs something after it.
        phrases.append(sku if sku and present.isdisjoint(_forms(sku)) else "Item")
    return tuple(phrases)


@lru_cache(maxsize=8192)
def _clean_phrase(phrase: str, platform: Platform) -> tuple[str, ...]:
    return tuple(clean_for_platform(clean_master(phrase), platform).split())


@lru_cache(maxsize=65536)
def _forms(word: str) -> frozenset[str]:
    """The word and its crude singulars, enough to see that "Watches" is already said by "Watch"."""
    word = word.casefold().strip(",.;:!?()[]")
    forms = {word}
    if word.endswith("s") and len(word) > 3:
        forms.add(word[:-1])
        if word.endswith("es"):
            forms.add(word[:-2])
    return frozenset(forms)


def _compose(core: Sequence[str], suffix: str, platform: Platform, max_length: int) -> str:
    """``core`` + platform separator + ``suffix``, the core cut at a word boundary to fit."""
    separator = _SEPARATOR[platform] if suffix else ""
    room = max_length - len(separator) - len(suffix)
    body = _fit(core, room) if room > 0 else ""
    if not body:
        return ""
    return f"{body.rstrip(',|')}{separator}{suffix}"


def _fit(words: Sequence[str], max_length: int) -> str:
    """The longest word prefix of ``words`` within ``max_length``, no dangling filler at its end."""
    whole = " ".join(words)
    if len(whole) <= max_length and words and words[-1].casefold() not in _TRAILING_JUNK:
        return whole
    kept: list[str] = []
    length = 0
    for word in words:
        added = len(word) + (1 if kept else 0)
        if length + added > max_length:
            break
        kept.append(word)
        length += added
    while len(kept) > 1 and kept[-1].casefold() in _TRAILING_JUNK:
        kept.pop()
    return " ".join(kept)
