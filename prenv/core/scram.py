"""The SCRAM-SHA-256 verifier PostgreSQL stores for a password (RFC 5802, RFC 7677), computed on the
client as psql's \\password and libpq's PQencryptPasswordConn do, so the server, its log and every
transport in between see the verifier only, never the password.

    SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>      (base64 each)

PostgreSQL normalizes a password with SASLprep before hashing; for the passwords prenv makes (ASCII
letters, digits, '-' and '_') SASLprep changes nothing, so other passwords are refused rather than
hashed differently from the server.

Pure: the salt is given (16 random bytes, as PostgreSQL uses).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

ITERATIONS = 4096  # PostgreSQL's default scram_iterations
SALT_LENGTH = 16
_SAFE = re.compile(r"^[A-Za-z0-9_-]{16,256}$")


def verifier(password: str, salt: bytes, iterations: int = ITERATIONS) -> str:
    """The verifier of `password` with `salt`."""
    if not _SAFE.match(password):
        raise ValueError(
            "a password for the SCRAM verifier must be 16 to 256 ASCII letters, digits, '-' or '_' "
            "(SASLprep leaves those unchanged)"
        )
    if len(salt) != SALT_LENGTH:
        raise ValueError(f"the salt must be {SALT_LENGTH} bytes")
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("ascii"), salt, iterations)
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.digest(salted, b"Server Key", "sha256")

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode("ascii")

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"
