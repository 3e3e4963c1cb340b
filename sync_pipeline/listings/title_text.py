"""Title text: what a shopper reads of a master title, what each platform refuses in a title,
and the similarity metric the titles' band is measured with (see ``titles.py``'s docstring).

``titles.py`` searches for a title; this module only cleans and measures text, and the checks
(``audit.py``) use the same functions so they measure what the search aimed at.
"""

from __future__ import annotations

import html
import re
import unicodedata

from rapidfuzz import fuzz

from sync_pipeline.platforms.registry import platform_spec
from sync_pipeline.platforms.spec import Platform, TitleStyle

SIMILARITY_METRIC = "rapidfuzz.fuzz.ratio/100 on NFKC-casefolded, whitespace-collapsed text"
PROMOTIONAL_PHRASES = ("free shipping", "free delivery", "best seller", "best price", "hot sale", "cheapest")

_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
_CJK = re.compile(r"[\u2e80-\u2fdf\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
PROMOTIONS = re.compile(r"\b(?:" + "|".join(re.escape(p) for p in PROMOTIONAL_PHRASES) + r")\b", re.IGNORECASE)
_MARKS = "™®©℠"  # trademark signs: kept where the style says so, else rejected as symbols


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
    return clean_for_style(text, title_style(platform))


def clean_for_style(text: str, style: TitleStyle) -> str:
    if not text.isascii():
        kept = _MARKS if style.keeps_marks else ""
        text = "".join(ch for ch in text if ch in kept or not _is_symbol(ch))
    if style.drops_promotions:
        text = PROMOTIONS.sub(" ", text)
    if style.rejects_cjk and not text.isascii():
        text = _CJK.sub(" ", text)
    for separator in style.foreign_separators:  # keeps the platforms' titles apart
        text = text.replace(separator, " ")
    return _SPACE.sub(" ", text).strip()


def forbidden_characters(title: str, platform: Platform) -> list[str]:
    """Characters in ``title`` that ``platform`` rejects (used by the checks)."""
    style = title_style(platform)
    kept = _MARKS if style.keeps_marks else ""
    bad = [ch for ch in title if unicodedata.category(ch)[0] == "C" or (_is_symbol(ch) and ch not in kept)]
    if style.rejects_cjk:
        bad += _CJK.findall(title)
    return bad


def title_style(platform: str) -> TitleStyle:
    return platform_spec(platform).titles


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
