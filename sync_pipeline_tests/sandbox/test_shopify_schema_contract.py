"""The sandbox's SDL is a faithful subset of Shopify's 2026-07 schema, and the client's documents are
valid against the real one. Needs ``../shared/contracts/shopify-admin-2026-07.schema.graphql``."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    Undefined,
    build_schema,
    parse,
    validate,
)

from sync_pipeline.platforms.shopify import documents as client_module
from sync_pipeline.sandbox.shopify.emulator import sandbox_schema

pytestmark = pytest.mark.slow  # building Shopify's 3.8 MB schema takes several seconds

REAL_SCHEMA = (
    Path(__file__).resolve().parents[2]
    / ".."
    / "shared"
    / "contracts"
    / "shopify-admin-2026-07.schema.graphql"
)


@pytest.fixture(scope="session")
def real_schema() -> GraphQLSchema:
    if not REAL_SCHEMA.exists():
        pytest.skip(
            f"Shopify's schema file is not in this checkout ({REAL_SCHEMA.resolve()}); CI provides it"
        )
    return build_schema(REAL_SCHEMA.read_text(encoding="utf-8"))  # ~4 s: once per session


def _user_types(schema: GraphQLSchema) -> dict[str, object]:
    return {name: t for name, t in schema.type_map.items() if not name.startswith("__")}


def test_every_sandbox_type_field_and_argument_exists_in_shopifys_schema(real_schema: GraphQLSchema) -> None:
    problems: list[str] = []
    for name, ours in _user_types(sandbox_schema()).items():
        theirs = real_schema.get_type(name)
        if theirs is None:
            problems.append(f"type {name} is not in Shopify's schema")
            continue
        if type(ours) is not type(theirs):
            problems.append(f"{name}: {type(ours).__name__} here, {type(theirs).__name__} at Shopify")
            continue
        if isinstance(ours, GraphQLEnumType) and isinstance(theirs, GraphQLEnumType):
            problems += [f"{name}.{v} is not a Shopify value" for v in ours.values if v not in theirs.values]
        if isinstance(ours, GraphQLObjectType | GraphQLInterfaceType) and isinstance(
            theirs, GraphQLObjectType | GraphQLInterfaceType
        ):
            for field_name, field in ours.fields.items():
                real = theirs.fields.get(field_name)
                if real is None or str(real.type) != str(field.type):
                    problems.append(
                        f"{name}.{field_name}: {field.type} here, {real.type if real else 'missing'} at Shopify"
                    )
                    continue
                for arg_name, arg in field.args.items():
                    real_arg = real.args.get(arg_name)
                    if real_arg is None or str(real_arg.type) != str(arg.type):
                        problems.append(
                            f"{name}.{field_name}({arg_name}): {arg.type} here, {real_arg.type if real_arg else 'missing'} at Shopify"
                        )
            problems += [
                f"{name} implements {i.name}, Shopify's does not"
                for i in ours.interfaces
                if i.name not in {j.name for j in theirs.interfaces}
            ]
        if isinstance(ours, GraphQLInputObjectType) and isinstance(theirs, GraphQLInputObjectType):
            for field_name, field in ours.fields.items():
                real_input = theirs.fields.get(field_name)
                if real_input is None or str(real_input.type) != str(field.type):
                    problems.append(
                        f"input {name}.{field_name}: {field.type} here, {real_input.type if real_input else 'missing'} at Shopify"
                    )
            problems += [
                f"input {name}.{f} is required at Shopify but missing here"
                for f, v in theirs.fields.items()
                if str(v.type).endswith("!") and f not in ours.fields
            ]
    assert problems == []


def _default(value: object) -> str:
    return "none" if value is Undefined else repr(value)


def test_every_input_type_the_sandbox_accepts_has_all_of_shopifys_fields(real_schema: GraphQLSchema) -> None:
    """An input the sandbox accepts must take every field Shopify's takes (same type, same default), so a
    document that is valid at Shopify is never refused here for a field the sandbox left out."""
    problems: list[str] = []
    for name, ours in _user_types(sandbox_schema()).items():
        theirs = real_schema.get_type(name)
        if not isinstance(ours, GraphQLInputObjectType) or not isinstance(theirs, GraphQLInputObjectType):
            continue
        for field_name, real_field in theirs.fields.items():
            field = ours.fields.get(field_name)
            if field is None:
                problems.append(f"input {name}.{field_name} ({real_field.type}) is missing here")
            elif _default(field.default_value) != _default(real_field.default_value):
                problems.append(
                    f"input {name}.{field_name} defaults to {_default(field.default_value)} here, "
                    f"{_default(real_field.default_value)} at Shopify"
                )
    assert problems == []


def test_every_field_the_sandbox_serves_takes_all_of_shopifys_arguments(real_schema: GraphQLSchema) -> None:
    problems: list[str] = []
    for name, ours in _user_types(sandbox_schema()).items():
        theirs = real_schema.get_type(name)
        if not isinstance(ours, GraphQLObjectType | GraphQLInterfaceType) or not isinstance(
            theirs, GraphQLObjectType | GraphQLInterfaceType
        ):
            continue
        for field_name, field in ours.fields.items():
            real = theirs.fields.get(field_name)
            if real is None:
                continue  # reported by the subset test
            for arg_name, real_arg in real.args.items():
                arg = field.args.get(arg_name)
                if arg is None:
                    problems.append(f"{name}.{field_name}({arg_name}: {real_arg.type}) is missing here")
                elif _default(arg.default_value) != _default(real_arg.default_value):
                    problems.append(
                        f"{name}.{field_name}({arg_name}) defaults to {_default(arg.default_value)} here, "
                        f"{_default(real_arg.default_value)} at Shopify"
                    )
    assert problems == []


def test_idempotent_directive_matches(real_schema: GraphQLSchema) -> None:
    ours, theirs = sandbox_schema().get_directive("idempotent"), real_schema.get_directive("idempotent")
    assert ours is not None and theirs is not None
    assert {k: str(a.type) for k, a in ours.args.items()} == {k: str(a.type) for k, a in theirs.args.items()}
    assert set(ours.locations) == set(theirs.locations)


@pytest.mark.parametrize("document", client_module.DOCUMENTS, ids=lambda d: d.split("(")[0].split()[-1])
def test_every_client_document_is_valid_against_shopify_and_the_sandbox(
    real_schema: GraphQLSchema, document: str
) -> None:
    parsed = parse(document)
    assert [e.message for e in validate(real_schema, parsed)] == []
    assert [e.message for e in validate(sandbox_schema(), parsed)] == []
