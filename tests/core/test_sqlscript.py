"""prenv/core/sqlscript.py: psql scripts read for a transport that is not psql, and what it refuses."""

from __future__ import annotations

import pytest

from prenv.core.sqlscript import Generate, SetPassword, SqlScriptError, Statement, identifier, literal, steps

VARS = {"db": "prenv_pr7", "role": "prenv_pr7"}


def read(text: str, variables: dict[str, str] | None = None, **files: str) -> list[object]:
    return list(steps("main.sql", {"main.sql": text, **files}, VARS if variables is None else variables))


def test_statements_queries_to_run_and_includes() -> None:
    found = read(
        "\\ir head.sql\nSELECT 1;\nSELECT format('DROP ROLE %I', :'role')\n\\gexec\n\\password :\"role\"\n",
        **{"head.sql": "\\set ON_ERROR_STOP on\nSET client_min_messages = warning;\n"},
    )
    assert found == [
        Statement("SET client_min_messages = warning"),
        Statement("SELECT 1"),
        Generate("SELECT format('DROP ROLE %I', 'prenv_pr7')"),
        SetPassword("prenv_pr7"),
    ]


def test_variables_are_quoted_as_psql_quotes_them() -> None:
    (statement,) = read("DROP DATABASE :\"db\" WITH (FORCE); -- :'db' in a comment stays\n")
    assert statement == Statement('DROP DATABASE "prenv_pr7" WITH (FORCE)')
    assert literal("it's") == "'it''s'"
    assert literal("a\\b") == "E'a\\\\b'"
    assert identifier('x"y') == '"x""y"'


def test_quotes_comments_and_casts_are_left_alone() -> None:
    text = (
        "SELECT ';', \":'db'\", $$ ; :'db' \\gexec $$, $t$;$t$, 1::int /* ; \\x /* nested */ */;\n"
        "SELECT 'it''s; fine' -- ; \\gexec\n;\n"
    )
    assert read(text) == [
        Statement("SELECT ';', \":'db'\", $$ ; :'db' \\gexec $$, $t$;$t$, 1::int"),
        Statement("SELECT 'it''s; fine'"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("SELECT :db;\n", "main.sql: :db would be pasted unquoted; write :'db' or :\"db\""),
        ("SELECT :'nope';\n", "main.sql: variable nope is not set"),
        ("\\gexec\n", "main.sql: \\gexec without a query"),
        ("SELECT 1\n", "main.sql: the last statement has no ';' or \\gexec"),
        ("SELECT 'open;\n", "main.sql: unterminated '-quoted text"),
        ("SELECT $$open;\n", "main.sql: unterminated dollar-quoted string $$"),
        ("/* open\n", "main.sql: unterminated /* comment"),
        ("\\ir ../other.sql\n", "main.sql: \\ir ../other.sql: only scripts of the same directory"),
        ("\\ir missing.sql\n", "missing.sql: no such script"),
        ("\\ir main.sql\n", "main.sql: \\ir nests too deep"),
        ("SELECT 1 \\gset\n", "main.sql: psql's \\gset is not something prenv can run without psql"),
        ("\\set ON_ERROR_STOP off\n", "main.sql: psql's \\set is not something prenv can run"),
        ("\\copy t from stdin\n", "main.sql: psql's \\copy is not something prenv can run"),
        ('SELECT 1\n\\password :"role"\n', "main.sql: \\password in the middle of a statement"),
    ],
)
def test_what_only_psql_could_run_is_refused(text: str, message: str) -> None:
    with pytest.raises(SqlScriptError) as caught:
        read(text)
    assert str(caught.value).startswith(message)
