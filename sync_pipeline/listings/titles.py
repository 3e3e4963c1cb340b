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

**Search.** Candidates come from deterministic shortenings of the master, gentlest first (as
written; "and" as "&"; trailing phrases such as "... with Front Pocket" dropped from the end;
parenthesised asides dropped; modifiers before the compound noun dropped). Every shortening keeps
the words in their order and keeps the *type noun* (the head's last word: "Jacket" in "Nova Full
Zip Jacket, Wool"), so a title never stops saying what the product is. Each is combined with the
platform-typical qualifiers (taken from the product itself) whose length should bring the
similarity closest to the band's centre. The first candidate, in that fixed order, within
``CENTRE_TOLERANCE`` of the centre is chosen; failing that, the one closest to the centre (ties:
the earlier). When no candidate lands in the band (very short titles), the best readable one is
returned with the reason ``title_similarity_out_of_band: 0.64`` - never a faked score.

**Platform conventions.** Each platform's ``TitleStyle`` (``platforms/<platform>/spec.py``) says how
its titles read: Shopify like a catalog (``Core | Colour Material Category for Audience``), Shopee
keyword-first (``Brand Core Material Colour``), TikTok concise and benefit-led (``Core, Breathable
Cotton Black``). This module knows no platform by name; it follows the style.

**Distinct across platforms, by construction.** Each platform has its own separator between the
product words and the qualifiers: Shopify ``Core | Qualifiers``; TikTok ``Core, Qualifiers`` and
never a ``|``; Shopee ``Core Qualifiers`` with neither ``|`` nor ``,``. Two platforms' titles can
therefore never be equal, without either one having to compute the other's. Two stores of the
same platform with the same rule get the same title.

**Clean** (``title_text.py``, with the metric). Entities are decoded (``&trade;`` -> ``™``), tags and control characters removed.
Emoji and pictographs are removed everywhere (noise in search results; Shopee and TikTok reject
them); trademark signs (``™``, ``®``) stay where the style keeps them (Shopify). Chinese characters
and promotional phrases ("free shipping", ...) go where the style says the platform refuses them.
Truncation only ever happens at word boundaries.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations

from rapidfuzz import fuzz

# The text half (cleaning, the metric); the checks, tests and benchmarks also reach it through here.
from sync_pipeline.listings.title_text import PROMOTIONS, clean_for_style, title_style
from sync_pipeline.listings.title_text import SIMILARITY_METRIC as SIMILARITY_METRIC
from sync_pipeline.listings.title_text import clean_for_platform as clean_for_platform
from sync_pipeline.listings.title_text import clean_master as clean_master
from sync_pipeline.listings.title_text import forbidden_characters as forbidden_characters
from sync_pipeline.listings.title_text import normalize as normalize
from sync_pipeline.listings.title_text import similarity as similarity
from sync_pipeline.platforms.registry import PLATFORMS
from sync_pipeline.platforms.spec import Platform, TitleStyle

CENTRE_TOLERANCE = 0.02
SUFFIXES_PER_CORE = 3
OUT_OF_BAND = "title_similarity_out_of_band"
TITLE_EMPTY = "title_empty"
TITLE_TOO_SHORT = "title_too_short"
BAND_MIN_LENGTH = 10  # characters of the cleaned master below which the band may be out of reach

PLATFORM_TITLE_MAX: dict[str, int] = {name: spec.titles.max_length for name, spec in PLATFORMS.items()}
# Override per store with ``limits: {title_min_length: N}``.
PLATFORM_TITLE_MIN: dict[str, int] = {name: spec.titles.min_length for name, spec in PLATFORMS.items()}

FILLER_WORDS = frozenset({"a", "an", "the", "and", "with", "for", "of", "in", "on", "by", "to", "new"})
_TRAILING_JUNK = set(FILLER_WORDS) | {"&", "-", "|", ",", "/", "+"}
# The master's own words, cleaned of what no platform takes (emoji), nothing else: what the type
# noun is read from.
_AS_WRITTEN = TitleStyle(max_length=255, min_length=1, separator=" ", max_qualifiers=0, qualifiers=(), keeps_marks=True)
# Words that open a phrase after the product's head ("Hoodie | for Men", "Bottle | with Lid").
_BOUNDARY_WORDS = frozenset({"size", "for", "with", "without", "featuring", "including", "that", "in", "from", "by"})
_MAX_PHRASE_UNITS = 4  # bounds the shortenings tried: 2^(4+2) x 11 at most, most titles far fewer
_MAX_MODIFIER_RUN = 4
_MAX_RUNS = 10
_BOUND_TO_PREVIOUS = frozenset({"fit", "sleeve", "sleeves", "top", "up", "neck", "rise", "waist", "proof", "free"})
_CONNECTORS = frozenset({"&", "and", "+", "n", "'n'"})
_UNITS = frozenset({"cm", "mm", "m", "in", "inch", "inches", "ft", "oz", "lb", "lbs", "kg", "g", "ml", "l",
                    "qt", "quart", "gb", "tb", "pack", "count", "ct", "pc", "pcs", "pieces", "pair", "pairs"})
_DASHES = frozenset({"-", "–", "—", "|", "/"})

@dataclass(frozen=True)
class TitleFacts:
    """What a title may add to the master, all taken from the product (never from the store)."""

    color: str | None = None
    brand: str | None = None  # Magento's manufacturer / brand: Shopee's search ranks on it
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


def seo_title(master: str, platform: Platform, facts: TitleFacts, limits: TitleLimits) -> SeoTitle:
    """The title ``platform`` lists the product under (see the module docstring)."""
    style = title_style(platform)
    reference = clean_master(master)
    parsed = _parse(reference, style)
    if not parsed.words:
        return SeoTitle("", 0.0, (TITLE_EMPTY,))
    target = normalize(reference)
    prefix = _prefix(parsed.words, style, facts)
    suffixes = _suffixes((*prefix, *parsed.words), style, facts)
    best: tuple[float, str, float] | None = None  # (distance to the band's centre, title, similarity)
    centre = limits.centre
    # A benefit-led style leads with the material's benefit when a title with it lands in the band.
    led = [option for option in suffixes if option[0].startswith(_benefit_words(style))] if style.benefit_led else []
    for options in (led, suffixes) if led else (suffixes,):
        for candidate in _candidates(parsed, prefix, target, style, options, limits, facts):
            score = _score(target, candidate)
            distance = _distance(score, limits)
            if best is None or distance < best[0]:
                best = (distance, candidate, score)
            if abs(score - centre) <= CENTRE_TOLERANCE:
                break  # candidates come gentlest first: the first one this close is the one to keep
        if best is not None and best[0] < 1.0:
            break
    if best is None:  # nothing fits the length limits: fewer words, the type noun kept
        title = _shortened(parsed, prefix, suffixes, style, limits.max_length, facts)
        best = (0.0, title, _score(target, title))
    _, title, score = best
    return SeoTitle(title, round(score, 4), _reasons(title, score, limits))


def type_noun(master: str) -> str | None:
    """The word naming what the product is ("Jacket" in "Nova Full Zip Jacket, Wool"): the last
    word of the title's head, before any parenthesis, comma, dash or preposition."""
    parsed = _parse(clean_master(master), _AS_WRITTEN)
    return parsed.words[parsed.noun].rstrip(",;:") if parsed.words else None


@dataclass(frozen=True)
class _Parsed:
    """The master's words for one platform, with the structure the shortening respects."""

    words: tuple[str, ...]
    head: tuple[int, ...]  # indices of the head's words (what the product is), in order
    tails: tuple[tuple[int, ...], ...]  # prepositional / comma phrases after the head, in order
    asides: tuple[tuple[int, ...], ...]  # parenthesised phrases
    noun: int  # index of the type noun: the head's last word; never dropped


def _parse(reference: str, style: TitleStyle) -> _Parsed:
    if style.drops_promotions:
        reference = PROMOTIONS.sub(" ", reference)
    words: list[str] = []
    head: list[int] = []
    tails: list[list[int]] = []
    asides: list[list[int]] = []
    in_head = True
    aside_open = False
    for token in reference.split():
        opens = not aside_open and token[:1] in "(["
        starts_tail = not opens and not aside_open and bool(words) and (
            token.casefold() in _BOUNDARY_WORDS or token in _DASHES
            or (not in_head and token.casefold() in ("and", "&")))  # "with Condo | and Scratching Posts"
        if opens:
            asides.append([])
            aside_open = True
        elif starts_tail and (in_head or tails):
            in_head = False
            tails.append([])
        for word in _platform_words(token, style):
            index = len(words)
            words.append(word)
            if aside_open:
                asides[-1].append(index)
            elif in_head:
                head.append(index)
            else:
                if not tails:
                    tails.append([])
                tails[-1].append(index)
        if aside_open and token.rstrip(",;:.")[-1:] in ")]":
            aside_open = False
        elif not aside_open and token[-1:] in ",;" and (head or tails):
            in_head = False
            tails.append([])
    # Sizes and counts at the end of the head ("Tumbler 40 oz", "Yoga Mat 6mm", "AirTag 4 Pack")
    # are specifications, not the product's name: the noun is the word before them.
    spec: list[int] = []
    while len(head) > 1 and _is_spec(words[head[-1]], words[head[-2]]):
        spec.insert(0, head.pop())
    if spec:
        tails.insert(0, spec)
    if not head:  # e.g. a title that is all parenthesis: its first phrase is what it is
        first = next((group for group in (*asides, *tails) if group), [])
        head = list(first)
        asides = [group for group in asides if group is not first]
        tails = [group for group in tails if group is not first]
    return _Parsed(
        tuple(words),
        tuple(head),
        tuple(tuple(t) for t in tails if t),
        tuple(tuple(a) for a in asides if a),
        head[-1] if head else 0,
    )


def _splits_size(last_dropped: str, first_kept: str) -> bool:
    """Whether cutting here would leave a unit without its number ("10.25 | Inch")."""
    return first_kept.rstrip(",;:").casefold() in _UNITS and any(ch.isdigit() for ch in last_dropped)


def _is_spec(word: str, before: str) -> bool:
    word = word.rstrip(",;:").casefold()
    return any(ch.isdigit() for ch in word) or (word in _UNITS and any(ch.isdigit() for ch in before))


@lru_cache(maxsize=65536)
def _platform_words(token: str, style: TitleStyle) -> tuple[str, ...]:
    return tuple(clean_for_style(token, style).split())


@lru_cache(maxsize=8)
def _benefit_words(style: TitleStyle) -> tuple[str, ...]:
    return tuple(sorted({f"{benefit} " for benefit in style.benefits.values()}))


def _cores(parsed: _Parsed, style: TitleStyle, facts: TitleFacts) -> Iterator[tuple[str, ...]]:
    """Shortenings of the master, gentlest first; each keeps the words' order and the type noun.

    What may go: trailing phrases ("... with Front Pocket", ", 32 oz"), parenthesised asides, and
    one run of modifiers between the brand and the compound noun ("Philips Hue White and Color
    Ambiance A19 Smart Bulb" -> "Philips Hue Ambiance A19 Smart Bulb"). The brand and the last two
    head words ("Smart Bulb") stay; a run never leaves a unit without its number ("10.25 Inch"),
    never splits "Hide & Seek" or a phrase of the product's own ("Stainless Steel"); at least
    three words and half the head remain. Fewer pieces dropped come first, shorter runs and runs
    nearer the brand first. A concise style (TikTok) starts from the master without its trailing
    phrases and asides."""
    words = parsed.words
    yield _tidy(words)
    if any(w.casefold() == "and" for w in words):
        yield _tidy(tuple("&" if w.casefold() == "and" else w for w in words))
    head = parsed.head
    start = _brand_length(words, head, facts.brand)
    end = len(head) - 2  # the run stays within head[start:end]
    most = min(len(head) - max(3, -(-len(head) // 2)), _MAX_MODIFIER_RUN)
    joined = _joined_pairs(tuple(words[i].casefold() for i in head), facts)

    def whole(at: int) -> bool:  # cutting between head words at-1 and at keeps everything whole
        return at - 1 not in joined and not _splits_size(words[head[at - 1]], words[head[at]])

    runs = tuple((a, k) for k in range(1, most + 1) for a in range(start, end - k + 1)
                 if whole(a) and whole(a + k))[:_MAX_RUNS]
    phrases = (*reversed(parsed.tails[-_MAX_PHRASE_UNITS:]), *reversed(parsed.asides[-2:]))
    for subset, run in _drop_order(len(phrases), len(runs), style.concise):
        dropped = {i for unit in subset for i in phrases[unit]}
        if run:
            a, k = runs[run - 1]
            dropped.update(head[a:a + k])
        yield _tidy(tuple(w for i, w in enumerate(words) if i not in dropped))


def _joined_pairs(head: tuple[str, ...], facts: TitleFacts) -> set[int]:
    """Positions ``i`` where head words ``i`` and ``i + 1`` belong together: around "&" / "and",
    before words that complete the previous one ("Loose Fit") or a model number ("Flip 6"), and
    inside a phrase of the product's own facts ("Stainless Steel", "Heather Gray")."""
    joined = {i + d for i, word in enumerate(head) if word in _CONNECTORS for d in (-1, 0)}
    for i in range(1, len(head)):
        word, after = head[i], head[i + 1] if i + 1 < len(head) else ""
        # "Loose Fit", "Short Sleeve"; a model number after its name ("Charge 6"), not a size ("10.25 Inch")
        if word in _BOUND_TO_PREVIOUS or (word[:1].isdigit() and after not in _UNITS):
            joined.add(i - 1)
    for phrase in (facts.material, facts.color, facts.category):
        said = phrase.casefold().split() if phrase else []
        for i in range(len(head) - len(said) + 1 if len(said) > 1 else 0):
            if list(head[i:i + len(said)]) == said:
                joined.update(range(i, i + len(said) - 1))
    return joined


def _brand_length(words: tuple[str, ...], head: tuple[int, ...], brand: str | None) -> int:
    """How many head words name the brand ("The North Face"): the words no shortening removes."""
    if brand:
        said = [w.casefold() for w in brand.split()]
        if [words[i].casefold() for i in head[: len(said)]] == said:
            return len(said)
    return 1


@lru_cache(maxsize=512)
def _drop_order(phrases: int, runs: int, concise: bool) -> tuple[tuple[tuple[int, ...], int], ...]:
    """(phrases to drop, 1 + the modifier run to drop or 0), in the order of preference; runs
    come shortest and nearest the brand first."""
    options = [(c, run) for run in range(runs + 1) for size in range(phrases + 1)
               for c in combinations(range(phrases), size) if c or run]
    if concise:  # every phrase dropped first, then the fewest modifiers
        options.sort(key=lambda o: (phrases - len(o[0]), o[1]))
    else:
        options.sort(key=lambda o: (len(o[0]) + (1 if o[1] else 0), o[1]))
    return tuple(options)


def _tidy(words: tuple[str, ...]) -> tuple[str, ...]:
    """No punctuation or filler left dangling at the end of a shortened title."""
    kept = list(words)
    while len(kept) > 1 and kept[-1].casefold().strip(",;:") in _TRAILING_JUNK:
        kept.pop()
    if kept and kept[-1][-1:] in ",;:":
        kept[-1] = kept[-1].rstrip(",;:")
    return tuple(kept)


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


def _prefix(words: Sequence[str], style: TitleStyle, facts: TitleFacts) -> tuple[str, ...]:
    """A brand-first style (Shopee's search ranks on it) opens with the brand when the master does not say it."""
    if not style.brand_first or not facts.brand:
        return ()
    brand = _clean_phrase(facts.brand, style)
    present = {form for w in words for form in _forms(w)}
    return () if any(not present.isdisjoint(_forms(w)) for w in brand) else brand


def _suffixes(words: Sequence[str], style: TitleStyle, facts: TitleFacts) -> list[tuple[str, int]]:
    """(suffix, characters it adds with its separator); some styles may also go without qualifiers."""
    separator = style.separator
    options = _suffix_options(_qualifiers(words, style, facts), style.max_qualifiers)
    suffixes = [(sfx, len(separator) + len(sfx)) for sfx in options]
    if style.bare_allowed:
        suffixes.insert(0, ("", 0))
    return suffixes


def _candidates(
    parsed: _Parsed, prefix: tuple[str, ...], target: str, style: TitleStyle, suffixes: list[tuple[str, int]],
    limits: TitleLimits, facts: TitleFacts,
) -> Iterator[str]:
    """Titles in order of preference: per core (gentlest first), the qualifier sets whose length
    should bring the similarity nearest the band's centre.

    The estimate assumes added qualifier characters match nothing in the master, so the
    similarity of ``core + suffix`` is about ``2M / (len(master) + len(core) + len(suffix))``
    with ``M`` the matched characters of the bare core; the real score is then computed exactly.
    """
    centre = limits.centre
    seen: set[str] = set()
    for shortened in _cores(parsed, style, facts):
        core = (*prefix, *shortened)
        bare = " ".join(core)
        base_length = len(target) + len(bare)
        matched2 = _score(target, bare) * base_length  # 2M
        options = sorted(suffixes, key=lambda option: abs(matched2 / (base_length + option[1]) - centre))
        for suffix, _ in options[:SUFFIXES_PER_CORE]:
            title = _compose(core, suffix, style, limits.max_length)
            if title and title not in seen and len(title) >= limits.min_length:
                seen.add(title)
                yield title


def _shortened(
    parsed: _Parsed, prefix: tuple[str, ...], suffixes: list[tuple[str, int]], style: TitleStyle, max_length: int,
    facts: TitleFacts,
) -> str:
    """A title within ``max_length`` when no shortening fits: words before the type noun go first."""
    suffix = min(suffixes, key=lambda option: option[1])[0]
    core = min(_cores(parsed, style, facts), key=len)
    noun = parsed.words[parsed.noun].rstrip(",;:")
    words = [*prefix, *core]
    while True:
        title = _compose(words, suffix, style, max_length)
        if title or len(words) <= 1:
            break
        stripped = [w.rstrip(",;:") for w in words]
        position = stripped.index(noun) if noun in stripped else len(words)
        del words[position - 1 if position > 0 else len(words) - 1]
    return title or noun[:max_length]


@lru_cache(maxsize=4096)
def _suffix_options(qualifiers: tuple[str, ...], most: int) -> tuple[str, ...]:
    """Every non-empty ordered selection of up to ``most`` qualifiers, shortest selections first."""
    return tuple(" ".join(combo) for size in range(1, most + 1) for combo in combinations(qualifiers, size))


def _qualifiers(words: Sequence[str], style: TitleStyle, facts: TitleFacts) -> tuple[str, ...]:
    """The style's qualifier phrases, in its order, skipping what the title already says.

    A benefit-led material ("Breathable Cotton") states a fact of the material, never a claim
    about this product beyond it."""
    # "Linen-Blend" already says "Linen"
    present = {form for w in words for part in (w, *w.split("-")) for form in _forms(part)}
    phrases = []
    for kind in style.qualifiers:
        phrase = _qualifier(kind, style, facts)
        if not phrase:
            continue
        fresh = _clean_phrase(phrase, style)
        # A phrase half said already ("Hoodies & Sweatshirts" on a hoodie) would read as noise.
        if fresh in ((), ("for",)) or any(w != "for" and not present.isdisjoint(_forms(w)) for w in fresh):
            continue
        phrases.append(" ".join(fresh))
        present.update(form for w in fresh for form in _forms(w))
    if not phrases:
        sku = clean_for_style(clean_master(facts.sku), style)
        # "Item" only when the product offers nothing at all: a separator needs something after it.
        phrases.append(sku if sku and present.isdisjoint(_forms(sku)) else "Item")
    return tuple(phrases)


def _qualifier(kind: str, style: TitleStyle, facts: TitleFacts) -> str | None:
    audience, material = facts.audience, facts.material
    if kind == "benefit_material":
        benefit = style.benefits.get(material.casefold()) if material else None
        return f"{benefit} {material}" if benefit else material
    if kind == "for_audience":
        return f"for {audience}" if audience else None
    return {"color": facts.color, "material": material, "category": facts.category, "audience": audience}[kind]


@lru_cache(maxsize=8192)
def _clean_phrase(phrase: str, style: TitleStyle) -> tuple[str, ...]:
    return tuple(clean_for_style(clean_master(phrase), style).split())


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


def _compose(core: Sequence[str], suffix: str, style: TitleStyle, max_length: int) -> str:
    """``core`` + the style's separator + ``suffix``, or "" when that exceeds ``max_length`` (the
    shortening, never a cut in mid-title, is what makes titles fit)."""
    separator = style.separator if suffix else ""
    body = " ".join(core).rstrip(",|")
    if not body or len(body) + len(separator) + len(suffix) > max_length:
        return ""
    return f"{body}{separator}{suffix}"


def band_reachable(master: str, min_length: int = BAND_MIN_LENGTH) -> bool:
    """Whether ``master`` is long enough for the 70-80 % band: shorter ones ("Tee", "Mug") cannot
    take a qualifier without leaving it, and are reported out of band instead."""
    return len(normalize(clean_master(master))) >= min_length
