"""Document and variable errors as Shopify's Admin API answers them (graphql-ruby's wording and codes).

The sandbox validates with graphql-core; this module rewrites graphql-core's findings into the
answers Shopify gives for the same mistakes. Shapes, messages and codes come from real responses
recorded by ``airhorns/shopify-draft-proxy`` (``fixtures/conformance/harry-test-heelo.myshopify.com``,
e.g. ``2025-01/admin-platform/graphql-base-validation-unhappy-paths.json`` and the per-resource
``*-inline-missing-*``/``*-validation.json`` captures):

* static validation: ``{message, locations, path, extensions: {code, ...details}}`` where ``path``
  starts with ``"query Name"``/``"mutation Name"`` and walks fields (alias or name), arguments and
  input fields; codes ``undefinedField``, ``argumentNotAccepted``, ``missingRequiredArguments``,
  ``missingRequiredInputObjectAttribute``, ``argumentLiteralsIncompatible``, ``selectionMismatch``,
  ``variableNotUsed``, ``variableNotDefined``, ``variableMismatch``, ``undefinedType``,
  ``undefinedDirective``;
* variables: ``INVALID_VARIABLE`` with ``value`` and ``problems: [{path, explanation}]``; the
  message names the problem paths (``for a.0.b (explanation), ...``) unless the path is empty;
* both answers carry no ``data`` and no ``extensions.cost`` (nothing was run or charged).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    Node,
    ObjectFieldNode,
    OperationDefinitionNode,
    TypeInfo,
    TypeInfoVisitor,
    VariableDefinitionNode,
    Visitor,
    coerce_input_value,
    get_named_type,
    print_ast,
    type_from_ast,
    visit,
)

from sync_pipeline.sandbox.shopify import gids

# ---- where a node sits, as graphql-ruby names it ----------------------------------------------


class _Paths(Visitor):
    """``id(node) -> path`` for every node of a document; for every node inside an argument, the innermost
    argument or input field holding it (name, ``"Field"``/``"InputObject"``, the field or input type)."""

    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info
        self.paths: dict[int, list[str]] = {}
        self.holder: dict[int, tuple[str, str, str]] = {}
        self._stack: list[str] = []
        self._holders: list[tuple[str, str, str]] = []
        self.variable_of: dict[int, str] = {}
        self._variable: str | None = None

    @staticmethod
    def _segment(node: Node) -> str | None:
        if isinstance(node, OperationDefinitionNode):
            kind = node.operation.value
            return f"{kind} {node.name.value}" if node.name else kind
        if isinstance(node, FragmentDefinitionNode):
            return f"fragment {node.name.value}"
        if isinstance(node, FieldNode):
            return (node.alias or node.name).value
        if isinstance(node, ArgumentNode | ObjectFieldNode):
            return node.name.value
        if isinstance(node, InlineFragmentNode):
            return f"... on {node.type_condition.name.value}" if node.type_condition else "..."
        if isinstance(node, FragmentSpreadNode):
            return f"... {node.name.value}"
        return None

    def enter(self, node: Node, *_: Any) -> None:
        segment = self._segment(node)
        if segment is not None:
            self._stack.append(segment)
        if isinstance(node, ArgumentNode):
            owner = self.type_info.get_field_def() if self.type_info.get_directive() is None else None
            field_name = next((s for s in reversed(self._stack[:-1]) if not s.startswith(("...", "query", "mutation"))), "")
            self._holders.append((node.name.value, "Field", field_name if owner is not None else ""))
        elif isinstance(node, ObjectFieldNode):
            parent = self.type_info.get_parent_input_type()
            self._holders.append((node.name.value, "InputObject", getattr(get_named_type(parent), "name", "")))
        if isinstance(node, VariableDefinitionNode):
            self._variable = node.variable.name.value
        if self._variable is not None:
            self.variable_of[id(node)] = self._variable
        if self._holders:
            self.holder[id(node)] = self._holders[-1]
        self.paths[id(node)] = list(self._stack)

    def leave(self, node: Node, *_: Any) -> None:
        if self._segment(node) is not None:
            self._stack.pop()
        if isinstance(node, ArgumentNode | ObjectFieldNode):
            self._holders.pop()
        if isinstance(node, VariableDefinitionNode):
            self._variable = None


def _first_node(error: GraphQLError) -> Node | None:
    return error.nodes[0] if error.nodes else None


def _locations(error: GraphQLError) -> list[dict[str, int]]:
    return [{"line": loc.line, "column": loc.column} for loc in error.locations or []][:1]


# ---- static validation ----------------------------------------------------------------------

_Rule = tuple[re.Pattern[str], Callable[[re.Match[str], GraphQLError, _Paths], dict[str, Any]]]


def _answer(message: str, error: GraphQLError, path: list[str] | None, **extensions: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {"message": message, "locations": _locations(error)}
    if path is not None:
        answer["path"] = path
    answer["extensions"] = extensions
    return answer


def _selection_mismatch(
    message: str, error: GraphQLError, path: list[str] | None, field: str, type_name: str
) -> dict[str, Any]:
    return _answer(message, error, path, code="selectionMismatch", nodeName=f"field '{field}'", typeName=type_name)


def _path(error: GraphQLError, paths: _Paths, node_index: int = 0) -> list[str] | None:
    nodes = error.nodes or []
    return paths.paths.get(id(nodes[node_index])) if len(nodes) > node_index else None


def _operation_path(error: GraphQLError, paths: _Paths) -> list[str] | None:
    found = _path(error, paths)
    return found[:1] if found else found


def _static_rules() -> list[_Rule]:
    def undefined_field(m: re.Match[str], e: GraphQLError, p: _Paths) -> dict[str, Any]:
        field, type_name = m["field"], m["type"]
        return _answer(
            f"Field '{field}' doesn't exist on type '{type_name}'",
            e,
            _path(e, p),
            code="undefinedField",
            typeName=type_name,
            fieldName=field,
        )

    def unknown_argument(m: re.Match[str], e: GraphQLError, p: _Paths) -> dict[str, Any]:
        field = m["owner"].rsplit(".", 1)[-1]
        kind = "Directive" if m["kind"] == "directive" else "Field"
        name = field.lstrip("@")
        return _answer(
            f"{kind} '{name}' doesn't accept argument '{m['arg']}'",
            e,
            _path(e, p),
            code="argumentNotAccepted",
            name=name,
            typeName=kind,
            argumentName=m["arg"],
        )

    def unknown_input_field(m: re.Match[str], e: GraphQLError, p: _Paths) -> dict[str, Any]:
        return _answer(
            f"InputObject '{m['type']}' doesn't accept argument '{m['field']}'",
            e,
            _path(e, p),
            code="argumentNotAccepted",
            name=m["type"],
            typeName="InputObject",
            argumentName=m["field"],
        )

    def missing_input_field(m: re.Match[str], e: GraphQLError, p: _Paths) -> dict[str, Any]:
        return _answer(
            f"Argument '{m['field']}' on InputObject '{m['type']}' is required. Expected type {m['expected']}",
            e,
            [*(_path(e, p) or []), m["field"]],
            code="missingRequiredInputObjectAttribute",
            argumentName=m["field"],
            argumentType=m["expected"],
            inputObjectType=m["type"],
        )

    def no_selection(m: re.Match[str], e: GraphQLError, p: _Paths) -> dict[str, Any]:
        field, type_name = m["field"], m["type"]
        return _selection_mismatch(
            f"Field must have selections (field '{field}' returns {type_name} but has no selections. "
            f"Did you mean '{field} {{ ... }}'?)",
            e, _path(e, p), field, type_name,
        )

    def scalar_selection(m: re.Match[str], e: GraphQLError, p: _Paths) -> dict[str, Any]:
        field, type_name = m["field"], m["type"]
        selection = _first_node(e)
        fields = []
        if selection is not None:
            fields = [s.name.value for s in getattr(selection, "selections", []) if isinstance(s, FieldNode)]
        return _selection_mismatch(
            f"Selections can't be made on scalars (field '{field}' returns {type_name} but has selections "
            f"[{', '.join(fields)}])",
            e, _path(e, p), field, type_name,
        )

    def unused_variable(m: re.Match[str], e: GraphQLError, p: _Paths) -> dict[str, Any]:
        return _answer(
            f"Variable ${m['var']} is declared by {m['op']} but not used",
            e,
            _operation_path(e, p),
            code="variableNotUsed",
            variableName=m["var"],
        )

    def undefined_variable(m: re.Match[str], e: GraphQLError, p: _Paths) -> dict[str, Any]:
        return _answer(
            f"Variable ${m['var']} is used by {m['op']} but not declared",
            e,
            _path(e, p),
            code="variableNotDefined",
            variableName=m["var"],
        )

    def variable_mismatch(m: re.Match[str], e: GraphQLError, p: _Paths) -> dict[str, Any]:
        given, expected = m["given"], m["expected"]
        kind = "Nullability mismatch" if given.rstrip("!") == expected.rstrip("!") else "Type mismatch"
        usage = e.nodes[-1] if e.nodes else None
        argument = p.holder.get(id(usage), ("", "", ""))[0] if usage is not None else ""
        return _answer(
            f"{kind} on variable ${m['var']} and argument {argument} ({given} / {expected})",
            e,
            _path(e, p, len(e.nodes or []) - 1),
            code="variableMismatch",
            variableName=m["var"],
            typeName=given,
            argumentName=argument,
            errorMessage=kind,
        )

    def unknown_type(m: re.Match[str], e: GraphQLError, p: _Paths) -> dict[str, Any]:
        node = _first_node(e)
        variable = p.variable_of.get(id(node)) if node is not None else None
        if variable is None:  # a fragment's type condition
            return _answer(
                f"No such type {m['type']}, so it can't be a fragment condition",
                e,
                _path(e, p),
                code="undefinedType",
                typeName=m["type"],
            )
        return _answer(
            f"{m['type']} isn't a defined input type (on ${variable})",
            e,
            _operation_path(e, p),
            code="variableRequiresValidType",
            typeName=m["type"],
            variableName=variable,
        )

    def unknown_directive(m: re.Match[str], e: GraphQLError, p: _Paths) -> dict[str, Any]:
        return _answer(
            f"Directive @{m['name']} is not defined",
            e,
            _path(e, p),
            code="undefinedDirective",
            directiveName=m["name"],
        )

    return [
        (re.compile(r"^Cannot query field '(?P<field>\w+)' on type '(?P<type>\w+)'"), undefined_field),
        (
            re.compile(r"^Unknown argument '(?P<arg>\w+)' on (?P<kind>field|directive) '(?P<owner>[@\w.]+)'"),
            unknown_argument,
        ),
        (re.compile(r"^Field '(?P<field>\w+)' is not defined by type '(?P<type>\w+)'"), unknown_input_field),
        (
            re.compile(r"^Field '(?P<type>\w+)\.(?P<field>\w+)' of required type '(?P<expected>[^']+)' was not provided"),
            missing_input_field,
        ),
        (
            re.compile(r"^Field '(?P<field>\w+)' of type '(?P<type>[^']+)' must have a selection of subfields"),
            no_selection,
        ),
        (
            re.compile(r"^Field '(?P<field>\w+)' must not have a selection since type '(?P<type>[^']+)'"),
            scalar_selection,
        ),
        (re.compile(r"^Variable '\$(?P<var>\w+)' is never used in operation '(?P<op>\w+)'"), unused_variable),
        (re.compile(r"^Variable '\$(?P<var>\w+)' is not defined by operation '(?P<op>\w+)'"), undefined_variable),
        (
            re.compile(
                r"^Variable '\$(?P<var>\w+)' of type '(?P<given>[^']+)' used in position expecting type '(?P<expected>[^']+)'"
            ),
            variable_mismatch,
        ),
        (re.compile(r"^Unknown type '(?P<type>\w+)'"), unknown_type),
        (re.compile(r"^Unknown directive '@(?P<name>\w+)'"), unknown_directive),
    ]


_RULES = _static_rules()
_REQUIRED_ARGUMENT = re.compile(
    r"^(?P<kind>Field|Directive) '@?(?P<name>\w+)' argument '(?P<arg>\w+)' of type '[^']+' is required"
)


def validation_errors(
    schema: GraphQLSchema, document: DocumentNode, errors: list[GraphQLError]
) -> list[dict[str, Any]]:
    """graphql-core's validation errors as Shopify words them; one answer per field for missing arguments."""
    type_info = TypeInfo(schema)
    paths = _Paths(type_info)
    visit(document, TypeInfoVisitor(type_info, paths))
    answers: list[dict[str, Any]] = []
    missing: dict[int, dict[str, Any]] = {}  # graphql-ruby lists a field's missing arguments in one error
    for error in errors:
        required = _REQUIRED_ARGUMENT.match(error.message)
        if required is not None:
            node = _first_node(error)
            key = id(node)
            if key in missing:
                ext = missing[key]["extensions"]
                ext["arguments"] = f"{ext['arguments']}, {required['arg']}"
                missing[key]["message"] = (
                    f"{required['kind']} '{required['name']}' is missing required arguments: {ext['arguments']}"
                )
                continue
            path = _path(error, paths)
            missing[key] = _answer(
                f"{required['kind']} '{required['name']}' is missing required arguments: {required['arg']}",
                error,
                path,
                code="missingRequiredArguments",
                className=required["kind"],
                name=required["name"],
                arguments=required["arg"],
            )
            answers.append(missing[key])
            continue
        answers.append(_translate(error, paths))
    return answers


def _translate(error: GraphQLError, paths: _Paths) -> dict[str, Any]:
    for pattern, build in _RULES:
        match = pattern.match(error.message)
        if match is not None:
            return build(match, error, paths)
    # an invalid literal (wrong scalar, unknown enum value, null for a non-null argument)
    node = _first_node(error)
    argument, kind, owner = paths.holder.get(id(node), ("", "Field", ""))
    shown = print_ast(node) if isinstance(node, Node) else "null"
    return _answer(
        f"Argument '{argument}' on {kind} '{owner}' has an invalid value ({shown}). "
        f"Expected type '{_expected_type(error.message)}'.",
        error,
        _path(error, paths),
        code="argumentLiteralsIncompatible",
        typeName=kind,
        argumentName=argument,
    )


def _expected_type(message: str) -> str:
    found = re.search(r"Expected value of type '([^']+)'", message) or re.search(r"^(\w+) cannot represent", message)
    if found:
        return found[1]
    enum = re.search(r"does not exist in '(\w+)' enum", message)
    return enum[1] if enum else ""


# ---- variables --------------------------------------------------------------------------------


def variable_errors(
    schema: GraphQLSchema, operation: OperationDefinitionNode, given: dict[str, Any]
) -> list[dict[str, Any]]:
    """Shopify's ``INVALID_VARIABLE`` answers for variables that do not fit their declared types."""
    answers = []
    for definition in operation.variable_definitions:
        answer = _check_variable(schema, definition, given)
        if answer is not None:
            answers.append(answer)
    return answers


def _check_variable(
    schema: GraphQLSchema, definition: VariableDefinitionNode, given: dict[str, Any]
) -> dict[str, Any] | None:
    name = definition.variable.name.value
    var_type = type_from_ast(schema, definition.type)
    if var_type is None:
        return None  # an unknown type is a validation error, reported before this
    problems: list[dict[str, Any]] = []
    if name not in given:
        if definition.default_value is None and isinstance(var_type, GraphQLNonNull):
            problems.append({"path": [], "explanation": "Expected value to not be null"})
        value = None
    else:
        value = given[name]
        if value is None and isinstance(var_type, GraphQLNonNull):
            problems.append({"path": [], "explanation": "Expected value to not be null"})
        elif value is not None:

            def on_error(path: list[str | int], invalid: Any, error: GraphQLError) -> None:
                problems.append(_problem(schema, list(path), invalid, error))

            coerce_input_value(value, var_type, on_error)  # type: ignore[arg-type]
            problems.extend(gids.variable_problems(var_type, value, []))  # type: ignore[arg-type]
    if not problems:
        return None
    where = ", ".join(
        f"{'.'.join(str(s) for s in p['path'])} ({p['explanation']})" for p in problems if p["path"]
    )
    message = f"Variable ${name} of type {print_ast(definition.type)} was provided invalid value"
    loc = definition.loc
    return {
        "message": message + (f" for {where}" if where else ""),
        "locations": [{"line": loc.start_token.line, "column": loc.start_token.column}] if loc else [],
        "extensions": {"code": "INVALID_VARIABLE", "value": value, "problems": problems},
    }


def _problem(schema: GraphQLSchema, path: list[str | int], invalid: Any, error: GraphQLError) -> dict[str, Any]:
    message = error.message
    missing = re.match(r"^Field '(\w+)' of required type '[^']+' was not provided", message)
    if missing:
        return {"path": [*path, missing[1]], "explanation": "Expected value to not be null"}
    unknown = re.match(r"^Field '(\w+)' is not defined by type '(\w+)'", message)
    if unknown:
        return {"path": [*path, unknown[1]], "explanation": f"Field is not defined on {unknown[2]}"}
    if message.startswith("Expected non-nullable type"):
        return {"path": path, "explanation": "Expected value to not be null"}
    enum = re.match(r"^Value '([^']*)' does not exist in '(\w+)' enum", message) or re.match(
        r"^Enum '(\w+)' cannot represent", message
    )
    if enum is not None:
        type_name = enum[2] if enum.re.groups == 2 else enum[1]
        return {"path": path, "explanation": _enum_explanation(schema, invalid, type_name)}
    scalar = re.match(r"^(\w+) cannot represent", message)
    if scalar:
        return {"path": path, "explanation": f"Could not coerce value {json.dumps(invalid)} to {scalar[1]}"}
    return {"path": path, "explanation": message}


def _enum_explanation(schema: GraphQLSchema, invalid: Any, type_name: str) -> str:
    enum = schema.get_type(type_name)
    values = list(enum.values) if isinstance(enum, GraphQLEnumType) else []
    shown = invalid if isinstance(invalid, str) else json.dumps(invalid)
    return f'Expected "{shown}" to be one of: {", ".join(values)}'




def parse_error(error: GraphQLError) -> dict[str, Any]:
    """A document that does not parse; graphql-ruby words the end of input as Shopify shows it."""
    location = _locations(error)
    where = f" at [{location[0]['line']}, {location[0]['column']}]" if location else ""
    if "<EOF>" in error.message:
        message = f"syntax error, unexpected end of file{where}"
    else:
        message = error.message.replace("Syntax Error: ", "syntax error, ").rstrip(".") + where
    return {"message": message, "locations": location, "extensions": {"code": "PARSE_ERROR"}}
