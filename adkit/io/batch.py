"""The unit every reader yields and every scorer consumes."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class EventBatch:
    """A chunk of events from one file.

    ``entries`` is set only when events were removed (event cut, ``--nan-policy drop``);
    otherwise the entries are ``entry_start .. entry_start + n``.
    """

    features: np.ndarray  # float32[n, F]
    condition: np.ndarray | None  # float32[n, C]
    weight: np.ndarray | None  # float32[n]
    source: str
    entry_start: int
    entries: np.ndarray | None = None  # int64[n]

    def __len__(self) -> int:
        return len(self.features)

    @property
    def entry(self) -> np.ndarray:
        """Entry number in the source file of every event (int64[n])."""
        if self.entries is not None:
            return self.entries
        return np.arange(self.entry_start, self.entry_start + len(self), dtype=np.int64)
