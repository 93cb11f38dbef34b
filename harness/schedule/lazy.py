"""A read-only sequence whose items are made when asked for: a schedule's millions of executions or gaps."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator, Sequence
from typing import TypeVar, overload

__all__ = ["MadeOnDemand"]

T = TypeVar("T")


class MadeOnDemand(Sequence[T]):
    """Indexing (negative indices and slices too) and iteration over ``_item(position)``."""

    __slots__ = ()

    @abstractmethod
    def _item(self, position: int) -> T:
        """The item at ``position``, from 0 to ``len(self) - 1``."""

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[T]: ...

    def __getitem__(self, index: int | slice) -> T | Sequence[T]:
        if isinstance(index, slice):
            return tuple(self._item(position) for position in range(*index.indices(len(self))))
        position = index + len(self) if index < 0 else index
        if not 0 <= position < len(self):
            raise IndexError(f"index {index} of {len(self)}")
        return self._item(position)

    def __iter__(self) -> Iterator[T]:
        return (self._item(position) for position in range(len(self)))
