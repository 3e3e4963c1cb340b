"""The bulk part of the Shopify sandbox's SDL (``sandbox/shopify/bulk.graphql``) against Shopify's 2026-07
schema: every input type whole, arguments and defaults as Shopify's; the client's bulk documents
(and the productSet/publish line mutations) valid against both schemas."""

from __future__ import annotations

import pytest
from graphql import GraphQLInputObjectType, GraphQLObjectType, GraphQLSchema, build_schema, parse, validate

from sync_pipeline.platforms.shopify import bulk as client_bulk
from sync_pipeline.sandbox.shopify.bulk import BULK_SDL_FILE
from sync_pipeline.sandbox.shopify.emulator import sandbox_schema
from sync_pipeline_tests.sandbox.test_shopify_schema_contract import real_schema  # noqa: F401 - fixture

pytestmark = pytest.mark.slow  # building Shopify's schema takes several seconds


def _fragment_types() -> set[str]:
    base = "type QueryRoot { x: Int } type Mutation { x: Int } interface Node { id: ID! } " \
           "interface DisplayableError { field: [String!] message: String! } " \
           "type UserError implements DisplayableError { field: [String!] message: String! } " \
           "scalar DateTime scalar URL "
    schema = build_schema(base + BULK_SDL_FILE.read_text(encoding="utf-8"))
    return {name for name in schema.type_map if not name.startswith("__")} - set(
        build_schema(base).type_map)


def test_bulk_input_types_and_root_fields_are_shopifys_whole(real_schema: GraphQLSchema) -> None:  # noqa: F811
    ours = sandbox_schema()
    problems: list[str] = []
    for name in sorted(_fragment_types()):
        mine, theirs = ours.get_type(name), real_schema.get_type(name)
        if isinstance(mine, GraphQLInputObjectType) and isinstance(theirs, GraphQLInputObjectType):
            if set(mine.fields) != set(theirs.fields):
                problems.append(f"input {name}: {sorted(mine.fields)} here, {sorted(theirs.fields)} at Shopify")
            problems += [f"input {name}.{f}: default {v.default_value!r} here" for f, v in mine.fields.items()
                         if f in theirs.fields and v.default_value != theirs.fields[f].default_value]
        if isinstance(mine, GraphQLObjectType) and isinstance(theirs, GraphQLObjectType) and \
                set(mine.fields) != set(theirs.fields):
            problems.append(f"type {name}: {sorted(set(theirs.fields) - set(mine.fields))} missing here")
    for root, fields in ((ours.mutation_type, ("stagedUploadsCreate", "bulkOperationRunMutation")),
                         (ours.query_type, ("bulkOperation", "currentBulkOperation"))):
        assert root is not None
        real_root = real_schema.mutation_type if root is ours.mutation_type else real_schema.query_type
        assert real_root is not None
        for field_name in fields:
            mine_args, their_args = root.fields[field_name].args, real_root.fields[field_name].args
            if {k: (str(a.type), a.default_value) for k, a in mine_args.items()} != \
                    {k: (str(a.type), a.default_value) for k, a in their_args.items()}:
                problems.append(f"{field_name}: arguments differ from Shopify's")
    assert problems == []


@pytest.mark.parametrize("document", client_bulk.DOCUMENTS, ids=lambda d: d.split("(")[0].split()[-1])
def test_bulk_documents_are_valid_against_shopify_and_the_sandbox(real_schema: GraphQLSchema,  # noqa: F811
                                                                  document: str) -> None:
    parsed = parse(document)
    assert [e.message for e in validate(real_schema, parsed)] == []
    assert [e.message for e in validate(sandbox_schema(), parsed)] == []
