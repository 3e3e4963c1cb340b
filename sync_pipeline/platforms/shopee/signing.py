"""Shopee's request signature (contract 3.2), shared by the client and the sandbox that checks it.

One implementation on both sides is safe because the tests pin it to Shopee's published examples
(``test_signature_base_strings_match_the_published_examples`` and the sandbox's own): a wrong base
string fails there, not silently on both sides at once.
"""

from __future__ import annotations

import hashlib
import hmac


def signature_base_string(
    partner_id: int | str, api_path: str, timestamp: int | str, access_token: str = "", shop_id: int | str = ""
) -> str:
    """Shop calls sign all five parts in this order, without separators; public calls the first three."""
    return f"{partner_id}{api_path}{timestamp}{access_token}{shop_id}"


def sign(partner_key: str, base_string: str) -> str:
    """HMAC-SHA256 of the base string with the partner key, hex."""
    return hmac.new(partner_key.encode(), base_string.encode(), hashlib.sha256).hexdigest()
