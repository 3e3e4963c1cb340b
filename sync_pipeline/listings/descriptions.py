"""Product descriptions in each platform's format.

Magento stores HTML from a rich-text editor. Shopify takes it as it is (``descriptionHtml``).
TikTok accepts a small HTML subset (p, ul, ol, li, br, strong, b, i, em, u, img) of at most
10,000 characters; Shopee takes plain text only. TikTok's subset is rebuilt with the stdlib
``html.parser`` (its output must nest correctly); plain text only needs tags removed.

Images inside a TikTok description must be hosted by TikTok; the listing carries none (the
client uploads the main images only), so ``<img>`` is dropped there.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

TIKTOK_TAGS = frozenset({"p", "ul", "ol", "li", "br", "strong", "b", "i", "em", "u"})
_VOID = frozenset({"br", "img", "hr", "input", "meta", "link", "source", "wbr"})
# Blocks that TikTok does not know: their content becomes a paragraph of its own.
_BLOCKS_AS_PARAGRAPH = frozenset(
    {"div", "section", "article", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "tr", "header"}
)
_DROP_CONTENT = frozenset({"script", "style", "head", "title", "noscript", "iframe", "svg"})
_SPACE = re.compile(r"[ \t\r\f\v]+")
_INVISIBLE = re.compile(r"<(script|style|head|title|noscript|iframe|svg)\b.*?</\1\s*>|<!--.*?-->", re.I | re.S)
_BREAK = re.compile(r"<br\b[^>]*>", re.I)
_LIST_ITEM = re.compile(r"<li\b[^>]*>", re.I)
_BLOCK = re.compile(r"</?(?:p|ul|ol|div|section|article|h[1-6]|blockquote|pre|table|tr|header)\b[^>]*>", re.I)
_CELL = re.compile(r"<t[dh]\b[^>]*>", re.I)
_ANY_TAG = re.compile(r"</?[a-zA-Z!][^>]*>")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def shopify_description(raw: str) -> str:
    """Shopify keeps the HTML; only surrounding whitespace goes."""
    return (raw or "").strip()


def plain_text(raw: str, max_length: int) -> str:
    """Readable plain text: blocks and ``<br>`` become line breaks, list items dashes.

    Plain text needs no tree, so this is a handful of substitutions rather than a parse (a
    tenth of the time, and it runs once per product and Shopee store).
    """
    text = raw or ""
    if _ANY_TAG.search(text):  # HTML: source line breaks are only whitespace
        text = _INVISIBLE.sub(" ", text.replace("\r", " ").replace("\n", " "))
        text = _BREAK.sub("\n", text)
        text = _LIST_ITEM.sub("\n- ", text)
        text = _BLOCK.sub("\n\n", text)
        text = _ANY_TAG.sub("", _CELL.sub(" ", text))
    text = html.unescape(text)
    lines = [_SPACE.sub(" ", line).strip() for line in text.split("\n")]
    return cut_at_word(_BLANK_LINES.sub("\n\n", "\n".join(lines)).strip(), max_length)


def tiktok_html(raw: str, max_length: int, *, fast_path: bool = True) -> str:
    """Only TikTok's tags, without attributes; cut after the last whole block that fits.

    ``fast_path=False`` always parses (see ``tiktok_blocks``); the output is the same."""
    kept: list[str] = []
    length = 0
    for block, text in tiktok_blocks(raw or "", fast_path=fast_path):
        if length + len(block) > max_length:
            if not kept:  # a single huge block: its text, cut at a word, as one paragraph
                kept.append(_paragraph_within(text, max_length))
            break
        kept.append(block)
        length += len(block)
    return "".join(kept)


def tiktok_blocks(raw: str, *, fast_path: bool = True) -> list[tuple[str, str]]:
    """The description's top-level blocks in TikTok's subset, each with its text.

    Markup made of bare tags only (no attributes, comments, entities, ``<`` or ``&`` in the text) -
    what a rich-text editor writes most of the time - is split by one regular expression instead
    of ``html.parser`` (a third of the time): the tokens are the very calls the parser would make,
    fed to the same builder. Anything else goes through the parser. A property test holds the two
    paths to the same output.
    """
    subset = _TikTokSubset()
    tokens = bare_markup_tokens(raw) if fast_path else None
    if tokens is None:
        subset.feed(raw)
    else:
        for closing, tag, data in tokens:
            if data:
                subset.handle_data(data)
            elif closing:
                subset.handle_endtag(tag)
            else:
                subset.handle_starttag(tag, [])
    subset.close()
    return subset.blocks()


# Tags the fast path takes: none that html.parser reads as raw text (script, style, and on newer
# Pythons title, textarea...), so the parser's calls for them are plain start and end tags.
_BARE_TAGS = TIKTOK_TAGS | _BLOCKS_AS_PARAGRAPH | {"span", "td", "th"}
_BARE_MARKUP = re.compile(r"(?:</?(?:" + "|".join(sorted(_BARE_TAGS)) + r")>|[^<&])*")
_BARE_TOKEN = re.compile(r"<(/?)([a-z][a-z0-9]*)>|([^<&]+)")


def bare_markup_tokens(raw: str) -> list[tuple[str, str, str]] | None:
    """``(closing "/" or "", tag, text)`` per tag or text run, or None when ``raw`` is not bare markup."""
    if _BARE_MARKUP.fullmatch(raw) is None:
        return None
    return _BARE_TOKEN.findall(raw)


def _paragraph_within(text: str, max_length: int) -> str:
    """``<p>text</p>`` within ``max_length`` once escaped (escaping can only lengthen the text)."""
    room = max_length - len("<p></p>")
    while room > 0:
        escaped = html.escape(cut_at_word(text, room), quote=False)
        if len(escaped) + len("<p></p>") <= max_length:
            return f"<p>{escaped}</p>" if escaped else ""
        room -= len(escaped) + len("<p></p>") - max_length
    return ""


def cut_at_word(text: str, max_length: int) -> str:
    """``text`` within ``max_length``, cut at the last whitespace before the limit."""
    if len(text) <= max_length:
        return text
    cut = text[: max_length + 1]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    return (cut[:space] if space > 0 else text[:max_length]).rstrip()


class _TikTokSubset(HTMLParser):
    """Rebuilds the HTML from allowed tags only, grouped into top-level blocks for cutting."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._blocks: list[tuple[str, str]] = []  # (HTML, its text)
        self._current: list[str] = []
        self._text: list[str] = []
        self._open: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROP_CONTENT:
            self._skip += 1
            return
        if self._skip:
            return
        if tag in ("td", "th") and self._open:
            self._current.append(" ")
        if tag in _BLOCKS_AS_PARAGRAPH:
            self._close_all()
            self._open_tag("p")
        elif tag in TIKTOK_TAGS:
            if tag in ("p", "ul", "ol") and not self._inside_list():
                self._close_all()
            if tag == "li" and not self._inside_list():
                self._open_tag("ul")
            if tag not in ("p", "ul", "ol", "li") and not self._open:
                self._open_tag("p")  # inline content needs a paragraph around it
            if tag == "br":
                self._current.append("<br>")
            else:
                self._open_tag(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br" and not self._skip:
            if not self._open:
                self._open_tag("p")
            self._current.append("<br>")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP_CONTENT:
            self._skip = max(0, self._skip - 1)
            return
        if self._skip or tag in _VOID:
            return
        target = "p" if tag in _BLOCKS_AS_PARAGRAPH else tag
        if target in self._open:
            while self._open:
                closed = self._open.pop()
                self._current.append(f"</{closed}>")
                if closed == target:
                    break
            if not self._open:
                self._flush()

    def handle_data(self, data: str) -> None:
        if self._skip or not data.strip() and not self._open:
            return
        if not self._open:
            self._open_tag("p")
        text = _SPACE.sub(" ", data.replace("\n", " "))
        self._text.append(text)
        self._current.append(html.escape(text, quote=False))

    def close(self) -> None:
        super().close()
        self._close_all()

    def blocks(self) -> list[tuple[str, str]]:
        """The top-level blocks that carry text, with that text (for cutting a huge one)."""
        return [(block, text) for block, text in self._blocks if text]

    def _open_tag(self, tag: str) -> None:
        self._open.append(tag)
        self._current.append(f"<{tag}>")

    def _inside_list(self) -> bool:
        return any(t in ("ul", "ol") for t in self._open)

    def _close_all(self) -> None:
        while self._open:
            self._current.append(f"</{self._open.pop()}>")
        self._flush()

    def _flush(self) -> None:
        if self._current:
            self._blocks.append(("".join(self._current), _SPACE.sub(" ", "".join(self._text)).strip()))
            self._current, self._text = [], []
