"""lean_init and draft_of: the same frozen dataclass, made faster, or refused."""

from __future__ import annotations

import dataclasses
import inspect
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from core.perf import draft_of, lean_init


@lean_init
@dataclass(frozen=True, slots=True)
class _Lean:
    a: int
    b: str
    c: Callable[[], str] | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class _Plain:
    a: int
    b: str
    c: Callable[[], str] | None = field(default=None, repr=False, compare=False)


def test_behaves_like_the_generated_init() -> None:
    lean, plain = _Lean(1, "x", c=str), _Plain(1, "x", c=str)
    assert (lean.a, lean.b, lean.c) == (plain.a, plain.b, plain.c)
    assert repr(lean) == repr(plain).replace("_Plain", "_Lean")
    assert lean == _Lean(1, "x")
    assert hash(lean) == hash(_Lean(1, "x"))
    assert _Lean(b="y", a=2) == _Lean(2, "y")
    assert str(inspect.signature(_Lean)) == str(inspect.signature(_Plain))
    assert pickle.loads(pickle.dumps(_Lean(1, "x"))) == _Lean(1, "x")
    assert dataclasses.replace(lean, a=5).a == 5
    with pytest.raises(dataclasses.FrozenInstanceError):
        lean.a = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        _Lean(1)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        _Lean(1, "x", None, 4)  # type: ignore[call-arg]


def test_refuses_what_it_cannot_reproduce() -> None:
    @dataclass(frozen=True, slots=True)
    class WithFactory:
        items: list[int] = field(default_factory=list)

    @dataclass(frozen=True, slots=True)
    class WithPostInit:
        a: int

        def __post_init__(self) -> None:
            pass

    @dataclass(slots=True)
    class Mutable:
        a: int

    @dataclass(frozen=True)
    class NoSlots:
        a: int

    @dataclass(frozen=True, slots=True)
    class KeywordOnly:
        a: int = field(kw_only=True)

    for cls in (WithFactory, WithPostInit, Mutable, NoSlots, KeywordOnly):
        with pytest.raises(TypeError):
            lean_init(cls)


def test_a_draft_turns_into_the_real_frozen_class() -> None:
    draft = draft_of(_Lean)
    made = draft(1, "x", str)
    made.__class__ = _Lean
    assert type(made) is _Lean
    assert made == _Lean(1, "x", c=str)
    assert repr(made) == repr(_Lean(1, "x"))
    assert hash(made) == hash(_Lean(1, "x"))
    assert pickle.loads(pickle.dumps(made)) == made
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.a = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        draft(1, "x")  # every field, positionally


def test_draft_refuses_what_it_cannot_mirror() -> None:
    @dataclass(frozen=True)
    class NoSlots:
        a: int

    @dataclass(frozen=True, slots=True)
    class Base:
        a: int

    @dataclass(frozen=True, slots=True)
    class Derived(Base):
        b: int

    for cls in (NoSlots, Derived):
        with pytest.raises(TypeError):
            draft_of(cls)
