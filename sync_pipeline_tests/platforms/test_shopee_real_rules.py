"""real-stores.md section 4, Shopee rules 1-6: for each, the payload the old client sent is refused
by the sandbox with the real code, and the fixed client passes."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import requests

from sync_pipeline.platforms.base import CallRecord, ErrorClass, PlatformError
from sync_pipeline.platforms.shopee import image_infos
from sync_pipeline.sandbox.core import placeholder_png
from sync_pipeline_tests.platforms.shopee_support import (
    SHOP_ID,
    provision_shop,
    simple_listing,
    variant_listing,
)
from sync_pipeline_tests.platforms.test_shopee_client import MemoryTokens, items, make_client, ops
from sync_pipeline_tests.sandbox.conftest import RunningSandbox
from sync_pipeline_tests.sandbox.test_shopee_emulator import Shop

INIT_TIERS = "/api/v2/product/init_tier_variation"


def _tiers_body(item_id: int, image_ids: list[str | None]) -> dict[str, Any]:
    return {
        "item_id": item_id,
        "standardise_tier_variation": [{
            "variation_id": 0, "variation_name": "Color", "variation_group_id": 0,
            "variation_option_list": [
                {"variation_option_id": 0, "variation_option_name": name, **({"image_id": i} if i else {})}
                for name, i in zip(("Blue", "Black"), image_ids, strict=True)
            ],
        }],
        "model": [{"tier_index": [n], "original_price": 20.0, "model_sku": f"T-{n}", "seller_stock": [{"stock": 1}]}
                  for n in range(2)],
    }


# -- rule 4: standardise_tier_variation, images on every first-tier option or none ---------------------


def test_rule4_the_deprecated_tier_variation_is_refused_unless_switched_on(sandbox_server: RunningSandbox) -> None:
    provision_shop(sandbox_server)
    shop = Shop(sandbox_server)
    item_id = shop.add_item("TEE")[1]["response"]["item_id"]
    old = {"item_id": item_id, "tier_variation": [{"name": "Color", "option_list": [{"option": "Blue"}]}],
           "model": [{"tier_index": [0], "original_price": 20.0, "model_sku": "T-0", "seller_stock": [{"stock": 1}]}]}
    status, refused = shop.call("POST", INIT_TIERS, old)
    assert refused["error"] == "error_param" and "standardise_tier_variation" in refused["message"]
    provision_shop(sandbox_server, accept_legacy_tier_variation=True)
    item_id = shop.add_item("TEE-2")[1]["response"]["item_id"]
    assert shop.ok("POST", INIT_TIERS, {**old, "item_id": item_id})["model"][0]["model_sku"] == "T-0"


def test_rule4_a_partial_set_of_first_tier_images_is_refused(sandbox_server: RunningSandbox) -> None:
    provision_shop(sandbox_server)
    shop = Shop(sandbox_server)
    item_id = shop.add_item("TEE")[1]["response"]["item_id"]
    (image,) = shop.upload(placeholder_png("blue"))
    assert shop.call("POST", INIT_TIERS, _tiers_body(item_id, [image, None]))[1]["error"] == "error_tier_img_partial"
    answer = shop.ok("POST", INIT_TIERS, _tiers_body(item_id, [image, image]))
    assert [o["image_id"] for o in answer["standardise_tier_variation"][0]["variation_option_list"]] == [image, image]


def test_rule4_the_fixed_client_sends_standardised_tiers_and_whole_image_sets(
    sandbox_server: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    provision_shop(sandbox_server)
    client = make_client(sandbox_server, monkeypatch)
    listing = variant_listing(sandbox_server, colors=("Blue", "Black"), sizes=("M", "L"))
    client.upsert(listing, None)
    # One colour without an image: the old client sent a partial set; the fixed one sends none.
    whole = variant_listing(sandbox_server, "WH-PARTIAL", colors=("Blue", "Black"))
    partial = dataclasses.replace(whole, variants=(whole.variants[0], dataclasses.replace(whole.variants[1], image=None)))
    client.upsert(partial, None)
    by_sku = {i["item_sku"]: i for i in items(sandbox_server)}
    assert all("image" in o for o in by_sku["WH-HOODIE"]["tier_variation"][0]["option_list"])  # type: ignore[index]
    assert not any("image" in o for o in by_sku["WH-PARTIAL"]["tier_variation"][0]["option_list"])  # type: ignore[index]


# -- rule 5: upload_image answers both shapes -----------------------------------------------------------


def test_rule5_upload_image_answers_both_shapes_and_the_client_reads_either(sandbox_server: RunningSandbox) -> None:
    provision_shop(sandbox_server)
    shop = Shop(sandbox_server)
    path = "/api/v2/media_space/upload_image"
    envelope = requests.post(sandbox_server.endpoint("shopee") + path, params=shop.params(path, public=True),
                             files=[("image", ("a.png", placeholder_png("a"), "image/png"))], timeout=10).json()
    answer = envelope["response"]
    assert answer["image_info"]["image_id"] == answer["image_info_list"][0]["image_info"]["image_id"]
    assert image_infos(answer, ["u"])[0]["image_id"] == answer["image_info"]["image_id"]
    assert image_infos({"image_info": answer["image_info"]}, ["u"])[0] == answer["image_info"]
    with pytest.raises(PlatformError) as refused:
        image_infos({"image_info_list": [{"id": 0, "error": "error_image_size", "message": "too big"}]}, ["u"])
    assert refused.value.error_class is ErrorClass.INVALID_PRODUCT and refused.value.platform_code == "error_image_size"


# -- rule 6: dead tokens in every spelling refresh; product-type error_auth does not ------------------------


@pytest.mark.parametrize("dead_token_error", ["error_auth", "invalid_acceess_token", "invalid_access_token"])
def test_rule6_every_dead_token_answer_refreshes_once(
    sandbox_server: RunningSandbox, monkeypatch: pytest.MonkeyPatch, dead_token_error: str
) -> None:
    provision_shop(sandbox_server, expired_token_error=dead_token_error)
    tokens = MemoryTokens()
    client = make_client(sandbox_server, monkeypatch, tokens=tokens)
    sandbox_server.sandbox.emulator("shopee").expire_tokens(SHOP_ID)
    client.upsert(simple_listing(sandbox_server), None)
    assert len(tokens.saves) == 1 and ops(sandbox_server)["auth.access_token.get"] == 1
    assert len(items(sandbox_server)) == 1


def test_rule6_a_stock_message_under_error_auth_is_a_product_error_not_a_refresh(
    sandbox_server: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    provision_shop(sandbox_server, reserved_stock=5)
    records: list[CallRecord] = []
    tokens = MemoryTokens()
    client = make_client(sandbox_server, monkeypatch, tokens=tokens, records=records)
    with pytest.raises(PlatformError) as refused:
        client.upsert(simple_listing(sandbox_server, stock=1), None)
    assert refused.value.platform_code == "error_auth"
    assert refused.value.error_class is ErrorClass.INVALID_PRODUCT
    assert "reserved stock" in refused.value.message
    assert tokens.saves == [] and "auth.access_token.get" not in ops(sandbox_server)
    client.upsert(simple_listing(sandbox_server, stock=6), None)  # enough stock: accepted
    assert len(items(sandbox_server)) == 1
