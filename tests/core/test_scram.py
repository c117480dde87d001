"""prenv/core/scram.py: the verifier's shape and what it refuses (tests/engine/test_shared_db.py logs
in to a real PostgreSQL with passwords set through it)."""

from __future__ import annotations

import base64

import pytest

from prenv.core.scram import verifier


def test_the_verifier_has_postgresqls_shape() -> None:
    found = verifier("0123456789abcdef-_XYZ", bytes(range(16)))
    method, rest = found.split("$", 1)
    iterations_salt, keys = rest.split("$")
    iterations, salt = iterations_salt.split(":")
    stored, server = keys.split(":")
    assert (method, iterations) == ("SCRAM-SHA-256", "4096")
    assert base64.b64decode(salt) == bytes(range(16))
    assert len(base64.b64decode(stored)) == len(base64.b64decode(server)) == 32
    assert verifier("0123456789abcdef-_XYZ", bytes(range(16))) == found  # the salt makes it repeatable
    assert verifier("0123456789abcdef-_XYZ", bytes(16)) != found


@pytest.mark.parametrize(
    ("password", "salt", "message"),
    [
        ("short", bytes(16), "a password for the SCRAM verifier must be 16 to 256 ASCII letters"),
        ("pässwörd-with-umlauts", bytes(16), "a password for the SCRAM verifier must be 16 to 256 ASCII"),
        ("0123456789abcdef", bytes(8), "the salt must be 16 bytes"),
    ],
)
def test_what_it_refuses(password: str, salt: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        verifier(password, salt)
