from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from sync_pipeline.listings.descriptions import (
    TIKTOK_TAGS,
    bare_markup_tokens,
    cut_at_word,
    plain_text,
    shopify_description,
    tiktok_blocks,
    tiktok_html,
)

MAGENTO_HTML = (
    '<div class="x"><h2>Warm &amp; light</h2><p style="color:red">A <span>soft</span> <strong>fleece</strong>.'
    "<br/>Second line</p><ul><li>Zip</li><li>Hood</li></ul><script>alert(1)</script>"
    '<img src="https://img/x.jpg"><table><tr><td>a</td><td>b</td></tr></table></div>'
)


def test_shopify_keeps_the_html() -> None:
    assert shopify_description(f"  {MAGENTO_HTML} ") == MAGENTO_HTML


def test_tiktok_keeps_only_its_tags_without_attributes() -> None:
    result = tiktok_html(MAGENTO_HTML, 10_000)
    assert set(re.findall(r"</?([a-z]+)", result)) <= TIKTOK_TAGS
    assert "style=" not in result and "alert" not in result and "img" not in result
    assert "<strong>fleece</strong>" in result and "<li>Zip</li>" in result and "Warm &amp; light" in result


def test_tiktok_is_cut_after_whole_blocks() -> None:
    raw = "".join(f"<p>Paragraph number {i} with some words.</p>" for i in range(1000))
    result = tiktok_html(raw, 10_000)
    assert len(result) <= 10_000
    assert result.endswith("</p>") and result.count("<p>") == result.count("</p>")


def test_tiktok_single_huge_block_becomes_text_cut_at_a_word() -> None:
    result = tiktok_html("<p>" + "word " * 5000 + "</p>", 1000)
    assert len(result) <= 1000 and result.startswith("<p>word") and result.endswith("word</p>")


def test_shopee_gets_plain_text_with_lines_and_dashes() -> None:
    text = plain_text(MAGENTO_HTML, 2000)
    assert "<" not in text and "alert" not in text
    assert "Warm & light" in text and "- Zip\n- Hood" in text and "fleece.\nSecond line" in text


def test_plain_text_is_cut_at_a_word_boundary() -> None:
    assert plain_text("<p>alpha beta gamma</p>", 12) == "alpha beta"
    assert cut_at_word("abcdefghij", 4) == "abcd"  # one word longer than the limit: the limit wins


@given(st.text(max_size=400), st.integers(min_value=20, max_value=300))
def test_conversions_never_exceed_their_limit(raw: str, limit: int) -> None:
    assert len(plain_text(raw, limit)) <= limit
    assert len(tiktok_html(raw, limit)) <= limit


def test_tiktok_cut_counts_escaped_characters() -> None:
    result = tiktok_html("<p>" + "a&b " * 500 + "</p>", 100)
    assert len(result) <= 100 and result.startswith("<p>a&amp;b")


def test_plain_text_keeps_the_line_breaks_of_text_without_tags() -> None:
    assert plain_text("Line one\nLine two &amp; more", 100) == "Line one\nLine two & more"
    assert plain_text("<p>Line one\nstill one</p>", 100) == "Line one still one"


# -- TikTok's fast path: bare markup split by a regex must give what html.parser gives ----------

BARE_TAG_NAMES = sorted(TIKTOK_TAGS | {"div", "section", "h2", "blockquote", "pre", "table", "tr", "td", "th", "span"})
bare_tags = st.builds(lambda name, closing: f"<{'/' if closing else ''}{name}>", st.sampled_from(BARE_TAG_NAMES), st.booleans())
bare_text = st.text(alphabet=st.sampled_from(list("ab Z9 \n\t\r>'\"/;#é—\u00a0")), min_size=1, max_size=12)
other_markup = st.sampled_from([
    "&amp;", "&lt;b&gt;", "&#169;", "&#x41;", "&nbsp", "& ", "&", "<", "</", "<3", "< p>", "<p >", "<P>", "</LI>",
    '<p class="x">', "<br/>", "<br />", '<img src="x.jpg">', "<!-- note -->", "<!doctype html>", "<script>",
    "</script>", "<style>p{}</style>", "<title>", "</title>", "<textarea>", "</textarea>", "<iframe>", "</iframe>",
    "<svg>", "</svg>", "<head>", "<hr>", "<font>", "</font>", "<![CDATA[x]]>", "<?php ?>",
])


@settings(max_examples=400)
@given(st.lists(st.one_of(bare_tags, bare_text), max_size=40), st.integers(min_value=10, max_value=400))
def test_tiktok_fast_path_gives_the_parser_output_for_bare_markup(fragments: list[str], limit: int) -> None:
    raw = "".join(fragments)
    assert bare_markup_tokens(raw) is not None  # this property is about the fast path itself
    assert tiktok_blocks(raw) == tiktok_blocks(raw, fast_path=False)
    assert tiktok_html(raw, limit) == tiktok_html(raw, limit, fast_path=False)


@settings(max_examples=400)
@given(st.lists(st.one_of(bare_tags, bare_text, other_markup), max_size=40), st.integers(min_value=10, max_value=400))
def test_tiktok_output_is_the_parser_output_for_any_markup(fragments: list[str], limit: int) -> None:
    raw = "".join(fragments)
    assert tiktok_blocks(raw) == tiktok_blocks(raw, fast_path=False)
    assert tiktok_html(raw, limit) == tiktok_html(raw, limit, fast_path=False)


def test_the_fast_path_takes_bare_markup_and_refuses_the_rest() -> None:
    assert bare_markup_tokens("<p>Warm: <strong>light</strong>.</p><ul><li>Zip</li></ul>") is not None
    assert bare_markup_tokens("") == []
    for raw in ["<p>a &amp; b</p>", '<p class="x">a</p>', "<P>a</P>", "<p>a<br/>b</p>", "<script>x</script>",
                "<p>a < b</p>", "<!-- c --><p>a</p>", "<p >a</p>", "<font>a</font>"]:
        assert bare_markup_tokens(raw) is None, raw
    assert tiktok_html(MAGENTO_HTML, 10_000) == tiktok_html(MAGENTO_HTML, 10_000, fast_path=False)
