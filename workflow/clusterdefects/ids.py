"""Structure ids: ``parent``, ``doped-Hg-crown``, ``vacancy-Hg-crown``, ``atom-Hg`` (and ``parent-<tag>``).

The one place ids are built and taken apart; the rules' wildcard patterns come from here too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import InputError

KINDS = ("parent", "doped", "vacancy", "atom")
ELEMENT = "[A-Z][a-z]?"
SITE = "[a-z][a-z0-9-]*"
#: A parent's tag: ``parent-model`` is the parent relaxed from the system's own file.
TAG = "[a-z][a-z0-9-]*"
#: Wildcard pattern of a doped or vacancy isomer, and of any structure id.
ISOMER_PATTERN = f"(doped|vacancy)-{ELEMENT}-{SITE}"
PATTERN = f"(parent(-{TAG})?|{ISOMER_PATTERN}|atom-{ELEMENT})"


@dataclass(frozen=True, order=True)
class StructureId:
    """What a structure is: its kind, and the dopant and site (isomers), dopant (atoms) or tag (parents)."""

    kind: str
    dopant: str | None = None
    site: str | None = None
    tag: str | None = None

    @classmethod
    def parse(cls, text: str) -> StructureId:
        if not re.fullmatch(PATTERN, text):
            raise InputError(None, f"unknown structure id {text!r}",
                             "use parent, doped-<X>-<site>, vacancy-<X>-<site> or atom-<X>")
        kind, _, rest = text.partition("-")
        if kind == "parent":
            return cls("parent", tag=rest or None)
        if kind == "atom":
            return cls("atom", dopant=rest)
        dopant, site = rest.split("-", 1)
        return cls(kind, dopant, site)

    def __str__(self) -> str:
        if self.kind == "parent":
            return f"parent-{self.tag}" if self.tag else "parent"
        if self.kind == "atom":
            return f"atom-{self.dopant}"
        return f"{self.kind}-{self.dopant}-{self.site}"

    @property
    def is_isomer(self) -> bool:
        return self.kind in ("doped", "vacancy")

    def doped(self) -> StructureId:
        """The doped isomer a vacancy isomer is made from (the same dopant and site)."""
        return StructureId("doped", self.dopant, self.site)

    def vacancy(self) -> StructureId:
        """The vacancy isomer made from a doped isomer."""
        return StructureId("vacancy", self.dopant, self.site)


def kind_of(text: str) -> str:
    """parent, doped, vacancy or atom, from a structure id."""
    return StructureId.parse(text).kind
