"""A small evaluator for the subset of GitHub Actions expressions that prenv's workflows and action use.

It exists so the tests can read the `if:` conditions, `env:` and `with:` values straight from the YAML
files and evaluate them against real webhook payloads: when a workflow changes, the tests see it.

The subset (GitHub's documented semantics, "Evaluate expressions in workflows and actions"):

- literals: `null`, `true`, `false`, numbers (decimal, `0x` hex, exponent), strings in single quotes
  with `''` for a quote;
- property access: `a.b`, `a['b']`, `a[0]`, the object filter `a.*.b` (an array of every element's `b`);
  a missing property is `null`; context and property names are case-insensitive;
- operators, by precedence: `( )`, `!`, `< <= > >=`, `== !=`, `&&`, `||`;
  `&&` and `||` return one of their operands, as GitHub's do;
- loose equality: values of different types are compared as numbers (`null` 0, `true` 1, a string
  parsed as a number, NaN otherwise); strings compare case-insensitively; arrays and objects only equal
  themselves;
- functions: `contains`, `startsWith`, `endsWith` (case-insensitive), `format`, `join`, `toJSON`,
  `fromJSON`, and the status functions `success`, `always`, `failure`, `cancelled`;
- `if:` conditions: an optional `${{ }}` around the whole text, and an implied `success() &&` when no
  status function appears. A condition with text outside its `${{ }}` is refused (it would always be
  true on GitHub).

Not supported (an error, never a guess): `hashFiles`, other functions, unknown contexts.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Value = Any  # None | bool | float | str | list[Any] | dict[str, Any]
STATUS_FUNCTIONS = ("success", "always", "failure", "cancelled")


class ExpressionError(ValueError):
    """An expression outside the supported subset, or malformed."""


_TOKEN = re.compile(
    r"""\s*(?:
      (?P<number>-?(?:0x[0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?))
    | (?P<string>'(?:[^']|'')*')
    | (?P<ident>[A-Za-z_][A-Za-z0-9_-]*)
    | (?P<op>==|!=|<=|>=|&&|\|\||[()\[\].,!<>*])
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise ExpressionError(f"unexpected character at {pos} in {text!r}")
        kind = match.lastgroup or ""
        tokens.append(_Token(kind, match.group(kind)))
        pos = match.end()
    return tokens


class _Filtered(list[Any]):
    """The result of an object filter (`.*`): a following property applies to every element."""


def to_number(value: Value) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return 0.0
        try:
            return float(int(text, 16)) if text.lower().startswith("0x") else float(text)
        except ValueError:
            return math.nan
    return math.nan


def to_string(value: Value) -> str:
    """How a value is written into `env:`, `with:` and other templates."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float | int):
        number = float(value)
        return str(int(number)) if number.is_integer() else repr(number)
    if isinstance(value, str):
        return value
    return "Array" if isinstance(value, list) else "Object"


def truthy(value: Value) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0 and not math.isnan(value)
    if isinstance(value, str):
        return value != ""
    return True


def _kind(value: Value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return "string" if isinstance(value, str) else "object"


def loose_equal(left: Value, right: Value) -> bool:
    kind = _kind(left)
    if kind == _kind(right):
        if kind == "string":
            return str(left).casefold() == str(right).casefold()
        if kind == "number":
            return float(left) == float(right)
        if kind == "object":
            return left is right
        return bool(left == right)
    if "object" in (kind, _kind(right)):
        return False
    return to_number(left) == to_number(right)


def _compare(left: Value, right: Value) -> float:
    """Negative, zero or positive; NaN when the values cannot be ordered."""
    if isinstance(left, str) and isinstance(right, str):
        a, b = left.casefold(), right.casefold()
        return float((a > b) - (a < b))
    a_num, b_num = to_number(left), to_number(right)
    if math.isnan(a_num) or math.isnan(b_num):
        return math.nan
    return a_num - b_num


def _property(value: Value, name: str) -> Value:
    if isinstance(value, _Filtered):
        out = _Filtered()
        for item in value:
            found = _property(item, name)
            if found is not None:
                out.append(found)
        return out
    if isinstance(value, dict):
        if name in value:
            return value[name]
        for key, item in value.items():
            if isinstance(key, str) and key.casefold() == name.casefold():
                return item
    return None


def _index(value: Value, key: Value) -> Value:
    if isinstance(value, list) and isinstance(key, int | float) and not isinstance(key, bool):
        position = int(key)
        return value[position] if 0 <= position < len(value) and position == key else None
    if isinstance(value, dict) and isinstance(key, str):
        return _property(value, key)
    return None


def _filter(value: Value) -> Value:
    if isinstance(value, _Filtered):
        out = _Filtered()
        for item in value:
            out.extend(_filter(item))
        return out
    if isinstance(value, list):
        return _Filtered(value)
    if isinstance(value, dict):
        return _Filtered(value.values())
    return _Filtered()


def _contains(search: Value, item: Value) -> bool:
    if isinstance(search, list):
        return any(loose_equal(element, item) for element in search)
    return to_string(item).casefold() in to_string(search).casefold()


def _format(template: Value, *args: Value) -> str:
    text = to_string(template)

    def replace(match: re.Match[str]) -> str:
        if match.group(0) in ("{{", "}}"):
            return match.group(0)[0]
        position = int(match.group(1))
        if position >= len(args):
            raise ExpressionError(f"format(): no argument {{{position}}} in {text!r}")
        return to_string(args[position])

    return re.sub(r"\{\{|\}\}|\{(\d+)\}", replace, text)


def _join(items: Value, separator: Value = ",") -> str:
    if isinstance(items, list):
        return to_string(separator).join(to_string(item) for item in items)
    return to_string(items)


def _from_json(text: Value) -> Value:
    return json.loads(to_string(text))


class _Parser:
    def __init__(self, text: str, contexts: Mapping[str, Value], status: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0
        self.contexts = {name.casefold(): value for name, value in contexts.items()}
        self.status = status
        self.functions: dict[str, Callable[..., Value]] = {
            "contains": _contains,
            "startswith": lambda s, p: to_string(s).casefold().startswith(to_string(p).casefold()),
            "endswith": lambda s, p: to_string(s).casefold().endswith(to_string(p).casefold()),
            "format": _format,
            "join": _join,
            "tojson": lambda v: json.dumps(v, indent=2),
            "fromjson": _from_json,
            "success": lambda: self.status == "success",
            "always": lambda: True,
            "failure": lambda: self.status == "failure",
            "cancelled": lambda: self.status == "cancelled",
        }

    def _peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _accept(self, text: str) -> bool:
        token = self._peek()
        if token is not None and token.kind == "op" and token.text == text:
            self.pos += 1
            return True
        return False

    def _expect(self, text: str) -> None:
        if not self._accept(text):
            raise ExpressionError(f"expected {text!r} in {self.text!r}")

    def parse(self) -> Value:
        value = self._or()
        if self._peek() is not None:
            raise ExpressionError(f"unexpected {self._peek()!r} in {self.text!r}")
        return value

    def _or(self) -> Value:
        value = self._and()
        while self._accept("||"):
            right = self._and()
            value = value if truthy(value) else right
        return value

    def _and(self) -> Value:
        value = self._equality()
        while self._accept("&&"):
            right = self._equality()
            value = right if truthy(value) else value
        return value

    def _equality(self) -> Value:
        value = self._relation()
        while True:
            if self._accept("=="):
                value = loose_equal(value, self._relation())
            elif self._accept("!="):
                value = not loose_equal(value, self._relation())
            else:
                return value

    def _relation(self) -> Value:
        value = self._unary()
        checks: dict[str, Callable[[float], bool]] = {
            "<=": lambda c: c <= 0,
            ">=": lambda c: c >= 0,
            "<": lambda c: c < 0,
            ">": lambda c: c > 0,
        }
        while True:
            for op, check in checks.items():
                if self._accept(op):
                    order = _compare(value, self._unary())
                    value = not math.isnan(order) and check(order)
                    break
            else:
                return value

    def _unary(self) -> Value:
        if self._accept("!"):
            return not truthy(self._unary())
        return self._postfix()

    def _postfix(self) -> Value:
        value = self._primary()
        while True:
            if self._accept("."):
                if self._accept("*"):
                    value = _filter(value)
                    continue
                token = self._peek()
                if token is None or token.kind != "ident":
                    raise ExpressionError(f"expected a property name in {self.text!r}")
                self.pos += 1
                value = _property(value, token.text)
            elif self._accept("["):
                value = _filter(value) if self._accept("*") else _index(value, self._or())
                self._expect("]")
            else:
                return value

    def _primary(self) -> Value:
        token = self._peek()
        if token is None:
            raise ExpressionError(f"unexpected end of {self.text!r}")
        self.pos += 1
        if token.kind == "number":
            return to_number(token.text)
        if token.kind == "string":
            return token.text[1:-1].replace("''", "'")
        if token.kind == "op" and token.text == "(":
            value = self._or()
            self._expect(")")
            return value
        if token.kind != "ident":
            raise ExpressionError(f"unexpected {token.text!r} in {self.text!r}")
        word = token.text
        if self._accept("("):
            return self._call(word)
        literals: dict[str, Value] = {"true": True, "false": False, "null": None}
        if word in literals:
            return literals[word]
        if word.casefold() not in self.contexts:
            raise ExpressionError(f"unknown context {word!r} in {self.text!r}")
        return self.contexts[word.casefold()]

    def _call(self, name: str) -> Value:
        function = self.functions.get(name.casefold())
        if function is None:
            raise ExpressionError(f"function {name}() is not supported by this evaluator")
        args: list[Value] = []
        if not self._accept(")"):
            args.append(self._or())
            while self._accept(","):
                args.append(self._or())
            self._expect(")")
        try:
            return function(*args)
        except TypeError as exc:
            raise ExpressionError(f"{name}(): wrong number of arguments in {self.text!r}") from exc


def evaluate(expression: str, contexts: Mapping[str, Value], *, status: str = "success") -> Value:
    """The value of one expression (the text inside `${{ }}`)."""
    value = _Parser(expression, contexts, status).parse()
    return list(value) if isinstance(value, _Filtered) else value


_TEMPLATE = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)


def render(text: str, contexts: Mapping[str, Value], *, status: str = "success") -> str:
    """A string with every `${{ expression }}` replaced by its value, as in `env:` and `with:`."""
    return _TEMPLATE.sub(lambda m: to_string(evaluate(m.group(1), contexts, status=status)), str(text))


def condition(text: str | bool | None, contexts: Mapping[str, Value], *, status: str = "success") -> bool:
    """Whether an `if:` lets its job or step run."""
    if text is None:
        text = "success()"
    if isinstance(text, bool):
        text = "true" if text else "false"
    source = text.strip()
    whole = _TEMPLATE.fullmatch(source)
    if whole:
        source = whole.group(1)
    elif "${{" in source:
        raise ExpressionError(f"condition with text outside ${{{{ }}}} is always true on GitHub: {text!r}")
    if not any(re.search(rf"\b{name}\s*\(", source, re.IGNORECASE) for name in STATUS_FUNCTIONS):
        source = f"success() && ({source})"
    return truthy(evaluate(source, contexts, status=status))


def github_context(event_name: str, payload: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    """The `github` context of a run triggered by `payload`, with the fields the workflows read."""
    repository = payload.get("repository") or {}
    context: dict[str, Any] = {
        "event_name": event_name,
        "event": dict(payload),
        "repository": repository.get("full_name", ""),
        "repository_owner": (repository.get("owner") or {}).get("login", ""),
        "token": "ghs_fake-token-for-tests",
        "workflow": "preview",
    }
    context.update(extra)
    return context
