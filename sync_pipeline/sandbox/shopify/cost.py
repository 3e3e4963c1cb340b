"""Shopify's calculated query cost and the leaky bucket it is charged to (contract 1.7).

The sandbox's cost model, simplified from Shopify's published rules:

* scalars and enums cost 0;
* an object (or a plain list of objects, counted once) costs 1 plus its selection;
* a mutation's root field costs 10 plus its selection;
* a connection costs 2 plus ``first`` times one node (1 plus the node's selection); the node is
  read from ``nodes`` when selected, else from ``edges { node }``;
* user-error objects cost 0 (a minimal ``productSet`` is observed at 11 requested points).

The requested cost is computed from the document before running it; the actual cost from the
response: null objects cost 0 and connections are charged for the nodes actually returned. The
bucket is charged the requested cost up front and refunded the difference afterwards.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    is_leaf_type,
    value_from_ast,
)
from graphql import GraphQLInt as _Int

from sync_pipeline.sandbox.throttle import Bucket

SINGLE_QUERY_MAX_COST = 1000  # contract 1.7: "exceeds the single query max cost limit (1000)"
MUTATION_COST = 10
CONNECTION_COST = 2
_NOT_GIVEN = object()


@dataclass(frozen=True)
class CostContext:
    schema: GraphQLSchema
    fragments: dict[str, FragmentDefinitionNode]
    variables: dict[str, Any]


def requested_cost(ctx: CostContext, operation: OperationDefinitionNode) -> int:
    return int(_root_cost(ctx, operation, _NOT_GIVEN))


def actual_cost(ctx: CostContext, operation: OperationDefinitionNode, data: dict[str, Any] | None) -> int:
    return int(_root_cost(ctx, operation, data if data is not None else {}))


def _root_cost(ctx: CostContext, operation: OperationDefinitionNode, data: Any) -> float:
    is_mutation = operation.operation == OperationType.MUTATION
    root = ctx.schema.mutation_type if is_mutation else ctx.schema.query_type
    assert root is not None
    return _selection_cost(
        ctx, operation.selection_set, root, data, root_base=MUTATION_COST if is_mutation else 1
    )


def _selection_cost(
    ctx: CostContext,
    selection_set: SelectionSetNode | None,
    parent: GraphQLObjectType | GraphQLInterfaceType,
    data: Any,
    root_base: int | None = None,
) -> float:
    if selection_set is None:
        return 0.0
    total = 0.0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            total += _field_cost(ctx, selection, parent, data, root_base)
        elif isinstance(selection, InlineFragmentNode):
            total += _selection_cost(
                ctx, selection.selection_set, _fragment_type(ctx, selection, parent), data, root_base
            )
        elif isinstance(selection, FragmentSpreadNode):
            fragment = ctx.fragments[selection.name.value]
            total += _selection_cost(
                ctx, fragment.selection_set, _fragment_type(ctx, fragment, parent), data, root_base
            )
    return total


def _fragment_type(
    ctx: CostContext,
    node: InlineFragmentNode | FragmentDefinitionNode,
    parent: GraphQLObjectType | GraphQLInterfaceType,
) -> GraphQLObjectType | GraphQLInterfaceType:
    if node.type_condition is None:
        return parent
    found = ctx.schema.get_type(node.type_condition.name.value)
    return found if isinstance(found, GraphQLObjectType | GraphQLInterfaceType) else parent


def _field_cost(
    ctx: CostContext,
    node: FieldNode,
    parent: GraphQLObjectType | GraphQLInterfaceType,
    data: Any,
    root_base: int | None,
) -> float:
    name = node.name.value
    if name.startswith("__") or name not in parent.fields:
        return 0.0
    named = get_named_type(parent.fields[name].type)
    if is_leaf_type(named) or not isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
        return 0.0
    if "DisplayableError" in {i.name for i in named.interfaces} or named.name == "DisplayableError":
        return 0.0
    value = _NOT_GIVEN if data is _NOT_GIVEN else (data or {}).get(node.alias.value if node.alias else name)
    base = root_base if root_base is not None else 1
    if named.name.endswith("Connection"):
        return _connection_cost(ctx, node, named, value)
    if value is _NOT_GIVEN:
        return base + _selection_cost(ctx, node.selection_set, named, _NOT_GIVEN)
    if value is None or value == []:
        return float(MUTATION_COST if root_base == MUTATION_COST else 0)  # a mutation is charged even when it fails
    first = value[0] if isinstance(value, list) else value
    return base + _selection_cost(ctx, node.selection_set, named, first)


def _connection_cost(
    ctx: CostContext, node: FieldNode, connection: GraphQLObjectType | GraphQLInterfaceType, value: Any
) -> float:
    node_selection, node_key, via_edges = _node_selection(node)
    node_type = get_named_type(connection.fields["nodes"].type)
    assert isinstance(node_type, GraphQLObjectType | GraphQLInterfaceType)
    if value is _NOT_GIVEN:
        per_node = 1 + _selection_cost(ctx, node_selection, node_type, _NOT_GIVEN) if node_selection else 0
        return CONNECTION_COST + _first(ctx, node) * per_node
    if value is None or node_selection is None:
        return CONNECTION_COST if value is not None else 0.0
    items = value.get(node_key) or []
    nodes = [edge.get("node") for edge in items] if via_edges else items
    return CONNECTION_COST + sum(1 + _selection_cost(ctx, node_selection, node_type, n) for n in nodes if n)


def _node_selection(node: FieldNode) -> tuple[SelectionSetNode | None, str, bool]:
    """The selection made on each node of a connection, and where the nodes are in the response."""
    selections = node.selection_set.selections if node.selection_set else ()
    fields = {(f.alias.value if f.alias else f.name.value): f for f in selections if isinstance(f, FieldNode)}
    for key, field in fields.items():
        if field.name.value == "nodes":
            return field.selection_set, key, False
    for key, field in fields.items():
        if field.name.value == "edges" and field.selection_set:
            for inner in field.selection_set.selections:
                if isinstance(inner, FieldNode) and inner.name.value == "node":
                    return inner.selection_set, key, True
    return None, "", False


def _first(ctx: CostContext, node: FieldNode) -> int:
    for argument in node.arguments:
        if argument.name.value in ("first", "last"):
            value = value_from_ast(argument.value, _Int, ctx.variables)
            if isinstance(value, int):
                return max(value, 0)
    return 1


class LeakyBucket:
    """Points per shop: full at ``maximum``, refilled at ``restore_rate`` points per second."""

    def __init__(
        self,
        maximum: float = 2000.0,
        restore_rate: float = 100.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._bucket = Bucket(maximum, restore_rate, clock())
        self._lock = threading.Lock()

    @property
    def maximum(self) -> float:
        return self._bucket.capacity

    @property
    def restore_rate(self) -> float:
        return self._bucket.rate

    def try_take(self, points: float) -> bool:
        """Take ``points`` if the bucket holds them; a throttled request takes nothing."""
        with self._lock:
            return self._bucket.take(points, self._clock())

    def give_back(self, points: float) -> None:
        with self._lock:
            self._bucket.give_back(points, self._clock())

    def status(self) -> dict[str, float | int]:
        with self._lock:
            available = self._bucket.refill(self._clock())
            return {
                "maximumAvailable": _number(self.maximum),
                "currentlyAvailable": int(available),
                "restoreRate": _number(self.restore_rate),
            }


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value
