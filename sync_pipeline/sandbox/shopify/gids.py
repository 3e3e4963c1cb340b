"""Malformed global ids: Shopify rejects an ``ID`` argument that is not ``gid://<app>/<Type>/<id>``
before running anything (no ``data``, nothing charged), in two shapes:

* in a variable, inside the ``INVALID_VARIABLE`` answer (errors.py) as one more problem,
  ``{path, explanation: "Invalid global id '<value>'", message: <the same>}``: e.g. ``$id`` =
  ``"gid://shopify/Product"`` gives ``Variable $id of type ID! was provided invalid value`` and a
  nested one ``... was provided invalid value for 0.publicationId (Invalid global id '')``;
* in a literal, ``{message: "Invalid global id '<value>'", locations: [the field], path: [operation,
  field, argument, ...], extensions: {code: "argumentLiteralsIncompatible", typeName: "CoercionError"}}``.

Sources: responses recorded from a live shop by airhorns/shopify-draft-proxy (its conformance
captures and the tests replaying them, e.g. ``VariableNodeMissingId`` for ``node(id:)`` and the
``publishablePublish`` empty ``publicationId`` capture); older recorded answers in public issues
(inspireui/support#676, 2019: ``Invalid global id `52048166948``` for a bare number) show the same
``problems`` shape. A well-formed id of an unknown type (``gid://shopify/UnknownType/123``) is not a
format error: it is simply not found.
"""

from __future__ import annotations

import re
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    Node,
    ObjectFieldNode,
    OperationDefinitionNode,
    StringValueNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    visit,
)

_GID = re.compile(r"^gid://[^/\s]+/[A-Za-z][A-Za-z0-9]*/[^/\s]+$")


def valid(value: str) -> bool:
    return bool(_GID.match(value.split("?", 1)[0]))


def explanation(value: str) -> str:
    return f"Invalid global id '{value}'"


def variable_problems(var_type: GraphQLInputType, value: Any, path: list[str | int]) -> list[dict[str, Any]]:
    """One problem per malformed id in a variable's value (ids nested in lists and input objects too)."""
    if isinstance(var_type, GraphQLNonNull):
        return variable_problems(var_type.of_type, value, path)
    if value is None:
        return []
    if isinstance(var_type, GraphQLList):
        items = value if isinstance(value, list) else [value]
        return [p for i, item in enumerate(items) for p in variable_problems(var_type.of_type, item, [*path, i])]
    if isinstance(var_type, GraphQLInputObjectType):
        if not isinstance(value, dict):
            return []
        return [
            p
            for name, field in var_type.fields.items()
            if name in value
            for p in variable_problems(field.type, value[name], [*path, name])
        ]
    if getattr(var_type, "name", None) == "ID" and isinstance(value, str) and not valid(value):
        return [{"path": path, "explanation": explanation(value), "message": explanation(value)}]
    return []


class _LiteralIds(Visitor):
    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info
        self.path: list[str] = []
        self.fields: list[FieldNode] = []
        self.errors: list[dict[str, Any]] = []

    def enter(self, node: Node, *_: Any) -> None:
        segment = _segment(node)
        if segment is not None:
            self.path.append(segment)
        if isinstance(node, FieldNode):
            self.fields.append(node)
        if isinstance(node, StringValueNode):
            expected = self.type_info.get_input_type()
            if expected is not None and get_named_type(expected).name == "ID" and not valid(node.value):
                field = self.fields[-1] if self.fields else None
                loc = field.loc if field is not None else None
                self.errors.append({
                    "message": explanation(node.value),
                    "locations": [{"line": loc.start_token.line, "column": loc.start_token.column}] if loc else [],
                    "path": list(self.path),
                    "extensions": {"code": "argumentLiteralsIncompatible", "typeName": "CoercionError"},
                })  # fmt: skip

    def leave(self, node: Node, *_: Any) -> None:
        if _segment(node) is not None:
            self.path.pop()
        if isinstance(node, FieldNode):
            self.fields.pop()


def _segment(node: Node) -> str | None:
    """The node's step in graphql-ruby's error path (fragments add none here: ids sit in arguments)."""
    if isinstance(node, OperationDefinitionNode):
        return f"{node.operation.value} {node.name.value}" if node.name else node.operation.value
    if isinstance(node, FieldNode):
        return (node.alias or node.name).value
    return node.name.value if isinstance(node, ArgumentNode | ObjectFieldNode) else None


def literal_errors(schema: GraphQLSchema, document: DocumentNode) -> list[dict[str, Any]]:
    """Shopify's answers for malformed ids written in the document itself."""
    type_info = TypeInfo(schema)
    finder = _LiteralIds(type_info)
    visit(document, TypeInfoVisitor(type_info, finder))
    return finder.errors
