"""Table references: `layer.table`."""

from __future__ import annotations

from dataclasses import dataclass

from afluente.errors import ModelError


@dataclass(frozen=True, order=True)
class TableRef:
    """A table in a layer, written `layer.table`."""

    layer: str
    name: str

    def __post_init__(self) -> None:
        for part in (self.layer, self.name):
            if not part.isidentifier():
                raise ModelError(
                    f"invalid table name {self.layer}.{self.name!s}: {part!r} is not an "
                    "identifier",
                    hint="use letters, digits and underscores (rename my-model.sql to "
                    "my_model.sql)",
                )

    def __str__(self) -> str:
        return f"{self.layer}.{self.name}"

    @classmethod
    def parse(cls, text: str) -> TableRef:
        """Parse `layer.table`; anything else is a ModelError."""
        parts = text.strip().split(".")
        if len(parts) != 2 or not all(p.isidentifier() for p in parts):
            raise ModelError(
                f"invalid table reference {text!r}",
                hint="write tables as layer.table, e.g. silver.orders",
            )
        return cls(parts[0].lower(), parts[1].lower())
