"""The collider object schema and the named features computed from it.

Events arrive from the readers as a padded object array ``float32[n, rows, 3]`` (pT, eta,
phi per row; rows are MET, then each object type in pT order, zero-padded), the layout of
the ADC2021 ``Particles`` dataset without its class column. A :class:`FeatureSet` turns
that array into the feature matrix a detector sees: the raw 57 inputs by default, or any
list of raw and derived names (``--features n_jets,ht,m_ll``).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from adkit.errors import ConfigError, closest

FIELDS = ("pt", "eta", "phi")
#: ADC2021 class codes of each object type (column 4 of ``Particles``).
CLASS_CODES = {"met": 1, "electron": 2, "muon": 3, "jet": 4}
DEFAULT_MULTIPLICITIES = {"met": 1, "electron": 4, "muon": 4, "jet": 10}


@dataclass(frozen=True)
class ObjectSchema:
    """Object types and how many of each are kept (pT-ordered, zero-padded)."""

    multiplicities: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_MULTIPLICITIES))

    def __post_init__(self) -> None:
        for name, n in self.multiplicities.items():
            if name not in CLASS_CODES:
                raise ConfigError(f"unknown object type {name!r}; valid: {', '.join(CLASS_CODES)}")
            if int(n) < (1 if name == "met" else 0) or (name == "met" and n != 1):
                raise ConfigError(f"multiplicity of {name!r} must be {'1' if name == 'met' else '>= 0'}, got {n}")
        from adkit.validation import LIMITS

        big = next(((k, n) for k, n in self.multiplicities.items() if int(n) > LIMITS["multiplicity"]), None)
        if big is not None:
            raise ConfigError(f"multiplicity of {big[0]!r} is {big[1]}, over the limit of {LIMITS['multiplicity']} "
                              "objects per event")

    @property
    def objects(self) -> list[str]:
        return list(self.multiplicities)

    @property
    def n_rows(self) -> int:
        return sum(self.multiplicities.values())

    def rows(self, obj: str) -> slice:
        """Row range of one object type in the padded array."""
        start = 0
        for name, n in self.multiplicities.items():
            if name == obj:
                return slice(start, start + n)
            start += n
        raise ConfigError(f"object {obj!r} is not in the schema ({', '.join(self.multiplicities)})")

    def raw_names(self) -> list[str]:
        """Names of the raw features: ``met_pt``, ``electron1_pt``, ..., ``jet10_phi``."""
        names = []
        for obj, n in self.multiplicities.items():
            for i in range(n):
                prefix = obj if obj == "met" else f"{obj}{i + 1}"
                names.extend(f"{prefix}_{f}" for f in FIELDS)
        return names

    def to_dict(self) -> dict:
        # a list of pairs, not a dict: the row order must survive JSON with sorted keys
        return {"objects": [[k, n] for k, n in self.multiplicities.items()], "fields": list(FIELDS)}

    @classmethod
    def from_dict(cls, d: dict) -> ObjectSchema:
        return cls({k: int(n) for k, n in d["objects"]})


# --- derived features -----------------------------------------------------------------

def _pt(o: np.ndarray, s: ObjectSchema, obj: str) -> np.ndarray:
    return o[:, s.rows(obj), 0]


def _count(obj: str) -> Callable:
    return lambda o, s: (_pt(o, s, obj) > 0).sum(axis=1)


def _leptons(o: np.ndarray, s: ObjectSchema) -> np.ndarray:
    return np.concatenate([o[:, s.rows("electron")], o[:, s.rows("muon")]], axis=1)


def _leading_lepton_pt(o, s):
    lep = _leptons(o, s)
    return lep[:, :, 0].max(axis=1, initial=0.0)


def _m_ll(o, s):
    """Invariant mass of the two leading leptons (massless), 0 if fewer than two."""
    lep = _leptons(o, s)
    pt = lep[:, :, 0]
    order = np.argsort(-pt, axis=1, kind="stable")[:, :2]
    if order.shape[1] < 2:
        return np.zeros(len(o))
    two = np.take_along_axis(lep, order[:, :, None], axis=1).astype(np.float64)
    pt1, eta1, phi1 = two[:, 0].T
    pt2, eta2, phi2 = two[:, 1].T
    m2 = 2 * pt1 * pt2 * (np.cosh(eta1 - eta2) - np.cos(phi1 - phi2))
    return np.where((pt1 > 0) & (pt2 > 0), np.sqrt(np.clip(m2, 0, None)), 0.0)


DERIVED: dict[str, tuple[Callable[[np.ndarray, ObjectSchema], np.ndarray], str]] = {
    "n_electrons": (_count("electron"), "number of electrons"),
    "n_muons": (_count("muon"), "number of muons"),
    "n_leptons": (lambda o, s: _count("electron")(o, s) + _count("muon")(o, s), "electrons + muons"),
    "n_jets": (_count("jet"), "number of jets"),
    "met": (lambda o, s: o[:, 0, 0], "missing transverse momentum [GeV]"),
    "ht": (lambda o, s: _pt(o, s, "jet").sum(axis=1), "scalar sum of jet pT [GeV]"),
    "lepton_pt_sum": (lambda o, s: _leptons(o, s)[:, :, 0].sum(axis=1), "scalar sum of lepton pT [GeV]"),
    "leading_lepton_pt": (_leading_lepton_pt, "pT of the leading lepton [GeV]"),
    "leading_jet_pt": (lambda o, s: _pt(o, s, "jet").max(axis=1, initial=0.0), "pT of the leading jet [GeV]"),
    "m_ll": (_m_ll, "invariant mass of the two leading leptons [GeV], 0 if fewer"),
}


@dataclass(frozen=True)
class FeatureSet:
    """A named list of features computed from the padded object array.

    ``names=None`` means the raw inputs in schema order (57 for the default schema), which is
    a zero-copy reshape; otherwise each name is a raw feature or one of :data:`DERIVED`.
    """

    schema: ObjectSchema = field(default_factory=ObjectSchema)
    names: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.names is not None:
            valid = self.valid_names()
            for n in self.names:
                if n not in valid:
                    raise ConfigError(f"unknown feature {n!r}; valid: {closest(n, valid, 8)} "
                                      f"(all: `adkit features`)")

    @classmethod
    def parse(cls, spec: str | Sequence[str] | None, schema: ObjectSchema | None = None) -> FeatureSet:
        """From ``"a,b,c"``, a list, or None (raw inputs)."""
        schema = schema or ObjectSchema()
        if spec is None or spec == "" or spec == "raw":
            return cls(schema, None)
        names = [s.strip() for s in spec.split(",")] if isinstance(spec, str) else list(spec)
        if not all(isinstance(n, str) for n in names):
            raise ConfigError(f"features: expected names, got {spec!r}")
        names = [n for n in names if n]
        if not names:
            raise ConfigError(f"--features {spec!r}: no feature names given (see `adkit features`)")
        if len(set(names)) != len(names):
            dup = next(n for n in names if names.count(n) > 1)
            raise ConfigError(f"--features: {dup!r} is given twice")
        return cls(schema, tuple(names))

    def valid_names(self) -> list[str]:
        return list(DERIVED) + self.schema.raw_names()

    @property
    def columns(self) -> list[str]:
        return self.schema.raw_names() if self.names is None else list(self.names)

    def __len__(self) -> int:
        return len(self.columns)

    def compute(self, objects: np.ndarray) -> np.ndarray:
        """float32[n, rows, 3] -> float32[n, F]."""
        n = len(objects)
        if self.names is None:
            return objects.reshape(n, int(np.prod(objects.shape[1:])))
        raw_index = {name: i for i, name in enumerate(self.schema.raw_names())}
        flat = objects.reshape(n, -1)
        out = np.empty((n, len(self.names)), dtype=np.float32)
        for j, name in enumerate(self.names):
            out[:, j] = flat[:, raw_index[name]] if name in raw_index else DERIVED[name][0](objects, self.schema)
        return out

    def to_dict(self) -> dict:
        return {"schema": self.schema.to_dict(), "names": None if self.names is None else list(self.names)}

    @classmethod
    def from_dict(cls, d: dict) -> FeatureSet:
        names = d.get("names")
        return cls(ObjectSchema.from_dict(d["schema"]), None if names is None else tuple(names))
