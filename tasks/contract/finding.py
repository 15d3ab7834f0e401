"""A finding: one broken rule of the contract on one row or file, what the desk is told and what
it takes out of the figures. Part of the contract, not of the validation that finds it, so the
personal-data rules, the parser, the judge and the load all speak of the same thing."""

from __future__ import annotations

from dataclasses import dataclass

# What a finding takes out of the metrics (`meta.effect` of each rule, docs/metrics.md): the
# desk hears of every finding whatever its effect, and a rule about one value never costs the
# row its other values.
EFFECTS = ("nothing", "values", "row")


@dataclass(frozen=True)
class Finding:
    """One broken rule on one row (row None = the whole file), with its Indonesian message.

    `effect` says what stops counting: `nothing` (the value counts), `values` (the cells in
    `columns`, or `column` when empty) or `row` (the row's identity is wrong). A whole-file
    finding excludes nothing by itself (a `reject` refuses the file, whatever its effect)."""

    file_id: int
    row: int | None
    column: str | None
    rule: str
    severity: str  # reject | flag | catatan (a note: the row still counts)
    message: str
    effect: str = "row"
    columns: tuple[str, ...] = ()

    @property
    def excluded_columns(self) -> tuple[str, ...]:
        """The cells a `values` finding takes out of the metrics."""
        if self.effect != "values":
            return ()
        return self.columns or ((self.column,) if self.column else ())
