"""The psql scripts of terraform/preview/sql/, read for a transport that is not psql (the RDS Data API).

psql runs those files as they are (pr-database.sh). prenv's shared mode runs the same files through the
RDS Data API, which takes one SQL statement per call and knows nothing of psql. This module turns a
script into the steps psql would take, for the small part of psql the scripts use, and refuses
anything else, so the two transports cannot drift apart silently:

- `:'name'` and `:"name"` outside quotes and comments: the variable as a quoted literal or name
  (psql's PQescapeLiteral / PQescapeIdentifier); a bare `:name` of a known variable is refused (psql
  would paste it unquoted);
- `;` ends a statement;
- `\\gexec` ends a query whose result cells are statements to run, each on its own;
- `\\ir FILE` includes another script of the same directory;
- `\\set ON_ERROR_STOP on`: the steps always stop at the first error;
- `\\password :"role"`: set the role's password (the transport sends a SCRAM verifier, never the password).

Pure: texts in, steps out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_META = re.compile(r"\\([A-Za-z]+)(.*)")
_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")
_VARIABLE = re.compile(r":([A-Za-z_][A-Za-z0-9_]*)")


class SqlScriptError(ValueError):
    """A script that uses psql beyond what prenv's other transports can do, or a missing variable."""


@dataclass(frozen=True)
class Statement:
    """Run `sql`; its result, if any, is not used."""

    sql: str


@dataclass(frozen=True)
class Generate:
    """Run `sql`, then run each non-null cell of its result as a statement, in order (psql's \\gexec)."""

    sql: str


@dataclass(frozen=True)
class SetPassword:
    """Set the password of `role` (psql's \\password): the transport sends a SCRAM verifier only."""

    role: str


Step = Statement | Generate | SetPassword


def literal(value: str) -> str:
    """`value` as an SQL string literal (standard_conforming_strings, as PostgreSQL has by default)."""
    if "\\" in value:
        return "E'" + value.replace("\\", "\\\\").replace("'", "''") + "'"
    return "'" + value.replace("'", "''") + "'"


def identifier(value: str) -> str:
    """`value` as a quoted SQL name."""
    return '"' + value.replace('"', '""') + '"'


@dataclass
class _Reader:
    name: str
    files: Mapping[str, str]
    variables: Mapping[str, str]
    depth: int

    def steps(self) -> list[Step]:
        text = self.files.get(self.name)
        if text is None:
            raise SqlScriptError(f"{self.name}: no such script")
        steps: list[Step] = []
        buffer: list[str] = []
        i = 0
        while i < len(text):
            if text[i] == ";":
                self._flush(buffer, steps, Statement)
                i += 1
            elif text[i] == "\\":
                end = text.find("\n", i)
                end = len(text) if end < 0 else end
                self._meta(text[i:end].strip(), buffer, steps)
                i = end
            else:
                i = self._token(text, i, buffer)
        if "".join(buffer).strip():
            raise SqlScriptError(f"{self.name}: the last statement has no ';' or \\gexec")
        return steps

    def _token(self, text: str, i: int, buffer: list[str]) -> int:
        """Read what starts at `i` (a comment, quoted text, a variable, a character) into `buffer`;
        returns where the next token starts."""
        c = text[i]
        if text.startswith("--", i):
            end = text.find("\n", i)
            return len(text) if end < 0 else end
        if text.startswith("/*", i):
            return self._block_comment(text, i)
        if c in "'\"":
            end = self._quoted(text, i, c)
        elif c == "$" and (match := _DOLLAR_TAG.match(text, i)) and not _word_before(buffer):
            close = text.find(match.group(0), match.end())
            if close < 0:
                raise SqlScriptError(f"{self.name}: unterminated dollar-quoted string {match.group(0)}")
            end = close + len(match.group(0))
        elif c == ":" and text.startswith((":'", ':"'), i):
            close = text.find(text[i + 1], i + 2)
            if close < 0:
                raise SqlScriptError(f"{self.name}: unterminated variable reference")
            value = self._variable(text[i + 2 : close])
            buffer.append(literal(value) if text[i + 1] == "'" else identifier(value))
            return close + 1
        elif c == ":" and text.startswith("::", i):
            end = i + 2
        elif c == ":" and (match := _VARIABLE.match(text, i)) and match.group(1) in self.variables:
            name = match.group(1)
            raise SqlScriptError(
                f"{self.name}: :{name} would be pasted unquoted; write :'{name}' or :\"{name}\""
            )
        else:
            end = i + 1
        buffer.append(text[i:end])
        return end

    def _variable(self, name: str) -> str:
        if name not in self.variables:
            raise SqlScriptError(f"{self.name}: variable {name} is not set")
        return self.variables[name]

    def _quoted(self, text: str, start: int, quote: str) -> int:
        i = start + 1
        while True:
            i = text.find(quote, i)
            if i < 0:
                raise SqlScriptError(f"{self.name}: unterminated {quote}-quoted text")
            if text.startswith(quote * 2, i):  # a doubled quote stands for itself
                i += 2
                continue
            return i + 1

    def _block_comment(self, text: str, start: int) -> int:
        depth, i = 0, start
        while i < len(text):
            if text.startswith("/*", i):
                depth, i = depth + 1, i + 2
            elif text.startswith("*/", i):
                depth, i = depth - 1, i + 2
                if depth == 0:
                    return i
            else:
                i += 1
        raise SqlScriptError(f"{self.name}: unterminated /* comment")

    def _flush(self, buffer: list[str], steps: list[Step], kind: type[Statement] | type[Generate]) -> None:
        sql = "".join(buffer).strip()
        buffer.clear()
        if sql:
            steps.append(kind(sql))
        elif kind is Generate:
            raise SqlScriptError(f"{self.name}: \\gexec without a query")

    def _meta(self, line: str, buffer: list[str], steps: list[Step]) -> None:
        match = _META.fullmatch(line)
        command, argument = (match.group(1), match.group(2).strip()) if match else (line, "")
        known = {
            "gexec": not argument,
            "ir": bool(argument),
            "set": argument.split() == ["ON_ERROR_STOP", "on"],
            "password": argument.startswith(':"') and argument.endswith('"'),
        }
        if not known.get(command, False):
            raise SqlScriptError(
                f"{self.name}: psql's {line.split(maxsplit=1)[0]} is not something prenv can run "
                'without psql (only \\ir, \\gexec, \\set ON_ERROR_STOP on and \\password :"role")'
            )
        if command == "gexec":
            self._flush(buffer, steps, Generate)
            return
        if "".join(buffer).strip():
            raise SqlScriptError(f"{self.name}: \\{command} in the middle of a statement")
        if command == "ir":
            if "/" in argument or argument.startswith("."):
                raise SqlScriptError(f"{self.name}: \\ir {argument}: only scripts of the same directory")
            if self.depth >= 8:
                raise SqlScriptError(f"{self.name}: \\ir nests too deep")
            steps.extend(_Reader(argument, self.files, self.variables, self.depth + 1).steps())
        elif command == "password":
            steps.append(SetPassword(self._variable(argument[2:-1])))
        # \set ON_ERROR_STOP on: the steps always stop at the first error


def _word_before(buffer: list[str]) -> bool:
    """A `$` right after a letter, digit or `_` is part of a name (`a$1`), not a dollar quote."""
    text = "".join(buffer[-1:])
    return bool(text) and (text[-1].isalnum() or text[-1] == "_")


def steps(name: str, files: Mapping[str, str], variables: Mapping[str, str]) -> list[Step]:
    """The steps of script `name` (a key of `files`, which also holds what it includes)."""
    return _Reader(name, files, variables, 0).steps()
