"""Transition tables: every status field of the project moves only along its table (ADR 0014).

A model with a status field names its table as the class attribute `transitions` (a `TransitionTable`: the field,
which states each state may move to, and the named operations that gate a service). Its owner's
`<entity>_set_status` moves a row with `move()` (one row: check, write the field, let the caller write its change
row) or `move_where()` (a compare-and-set `UPDATE … WHERE status IN (the states that may move there)`, for rows a
worker and a screen may move at once). A move the table does not list raises `TransitionNotAllowed` and writes
nothing.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.db import models
from django.utils.translation import gettext as _


class TransitionNotAllowed(Exception):
    """A move its table does not list: nothing was written. `message` is for the operator (Korean, translated)."""

    def __init__(self, model: type[models.Model], from_state: str, to_state: str):
        self.model, self.from_state, self.to_state = model, from_state, to_state
        table = model.transitions
        self.message = _("'%(from)s' 상태에서 '%(to)s'(으)로 바꿀 수 없습니다.") % {
            "from": table.label(from_state), "to": table.label(to_state)}
        super().__init__(f"{model.__name__}.{table.field}: {from_state} → {to_state} is not in its table")


@dataclass(frozen=True)
class Gate:
    """A service's precondition as a row of the table: the states it acts from and the state it moves to (None: the
    operation changes no status, e.g. 상품교환)."""

    sources: frozenset[str]
    to: str | None = None


@dataclass(frozen=True)
class TransitionTable:
    """`moves[a]` is every state `a` may move to; `stay`: staying in a state is a move (written, not refused)."""

    field: str
    moves: Mapping[str, frozenset[str]]
    choices: type[models.TextChoices]
    stay: bool = False
    gates: Mapping[str, Gate] = field(default_factory=dict)

    def __post_init__(self):
        states = set(self.choices.values)
        object.__setattr__(self, "moves", {str(k): frozenset(str(t) for t in v) for k, v in self.moves.items()})
        object.__setattr__(self, "gates", dict(self.gates))
        if set(self.moves) != states or not set().union(*self.moves.values()) <= states:
            raise ValueError(f"the {self.field} table must list every state of {self.choices.__name__} exactly")
        for name, gate in self.gates.items():
            if gate.to is not None and any(not self.allows(s, gate.to) for s in gate.sources):
                raise ValueError(f"gate {name!r} moves from a state the table does not let move to {gate.to!r}")

    def allows(self, from_state: str, to_state: str) -> bool:
        return (self.stay and from_state == to_state) or to_state in self.moves.get(from_state, ())

    def sources(self, to_state: str) -> list[str]:
        """The states that may move to `to_state`."""
        return sorted(s for s in self.moves if self.allows(s, to_state))

    def opens(self, gate: str, state: str) -> bool:
        """Whether the named operation may act on a row in `state`."""
        return state in self.gates[gate].sources

    def label(self, state: str) -> str:
        try:
            return str(self.choices(state).label)
        except ValueError:
            return state


def table_of(model: type[models.Model] | models.Model) -> TransitionTable:
    return model.transitions


def move(obj: models.Model, to_state: str, *, fields: Iterable[str] = ()) -> str:
    """Move one row (locked by the caller, or new to it) along its table and save the field and `fields`; returns
    the state it moved from. Refused (nothing written) when the table does not list the move."""
    table = table_of(obj)
    from_state = getattr(obj, table.field)
    if not table.allows(from_state, to_state):
        raise TransitionNotAllowed(type(obj), from_state, to_state)
    setattr(obj, table.field, to_state)
    obj.save(update_fields=[table.field, *fields])
    return from_state


def move_where(queryset: models.QuerySet, to_state: str, **values) -> int:
    """Compare-and-set: move the rows of `queryset` that are in a state allowed to move to `to_state`, with `values`
    written beside; returns how many moved (0: none was in such a state — the caller decides what that means)."""
    table = table_of(queryset.model)
    sources = table.sources(to_state)
    if not sources:
        raise TransitionNotAllowed(queryset.model, "", to_state)
    return queryset.filter(**{f"{table.field}__in": sources}).update(**{table.field: to_state}, **values)


def check(model: type[models.Model], from_state: str, to_state: str) -> None:
    """Refuse a move its table does not list (for owners that write their own row, e.g. the order's status)."""
    if not table_of(model).allows(from_state, to_state):
        raise TransitionNotAllowed(model, from_state, to_state)
