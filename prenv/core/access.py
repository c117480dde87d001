"""Who may open a preview, from the root's `access` output (terraform/preview's access.tf), for the ready
comment. Pure; a root without the output (a custom one) says nothing about access."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from prenv.core.domain import Output

OUTPUT = "access"


@dataclass(frozen=True)
class Access:
    public: bool  # anyone on the internet who has the link
    ip_restricted: bool  # only from the base's ingress_cidrs
    sign_in: str  # the identity provider's issuer when a sign-in comes first, else ''


def access_of(outputs: Sequence[Output]) -> Access | None:
    """The `access` output as an Access, or None when there is none or it is not of that shape."""
    value = next((o.value for o in outputs if o.name == OUTPUT and not o.sensitive), None)
    if not isinstance(value, dict):
        return None
    public, restricted, sign_in = (value.get(key) for key in ("public", "ip_restricted", "sign_in"))
    if not (isinstance(public, bool) and isinstance(restricted, bool) and isinstance(sign_in, str)):
        return None
    return Access(public=public, ip_restricted=restricted, sign_in=sign_in)
