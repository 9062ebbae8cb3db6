"""Which tree and branches of a file become which schema objects.

Two presets cover the common layouts: CMS NanoAOD (and NanoAOD-like flat trees, Parquet
with the same columns) and Delphes. A user mapping (YAML, or ``--tree``/``--branch``) can
override the tree, any object's branches, multiplicities, object selections (``min_pt``,
``max_abs_eta``), an event ``cut`` and a ``weight`` branch.

Example ``mapping.yaml``::

    tree: Events
    multiplicities: {jet: 6}
    objects:
      jet: {pt: Jet_pt, eta: Jet_eta, phi: Jet_phi, min_pt: 30, max_abs_eta: 2.4}
    cut: "MET_pt > 20"
    weight: genWeight
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from adkit.errors import ConfigError, InputError
from adkit.io.schema import DEFAULT_MULTIPLICITIES, ObjectSchema


@dataclass(frozen=True)
class ObjectMap:
    """Branches of one object type; ``eta``/``phi`` may be None (filled with 0)."""

    pt: str
    eta: str | None = None
    phi: str | None = None
    min_pt: float = 0.0
    max_abs_eta: float | None = None

    def branches(self) -> list[str]:
        return [b for b in (self.pt, self.eta, self.phi) if b]


def _objs(met: tuple, e: str, mu: str, jet: str, sep: str) -> dict[str, ObjectMap]:
    out = {"met": ObjectMap(*met)}
    for name, prefix in (("electron", e), ("muon", mu), ("jet", jet)):
        pt, eta, phi = (("PT", "Eta", "Phi") if sep == "." else ("pt", "eta", "phi"))
        out[name] = ObjectMap(f"{prefix}{sep}{pt}", f"{prefix}{sep}{eta}", f"{prefix}{sep}{phi}")
    return out


PRESETS: dict[str, dict] = {
    "nanoaod": {"tree": "Events",
                "objects": _objs(("MET_pt", None, "MET_phi"), "Electron", "Muon", "Jet", "_")},
    "delphes": {"tree": "Delphes",
                "objects": _objs(("MissingET.MET", None, "MissingET.Phi"), "Electron", "Muon", "Jet", ".")},
}


@dataclass(frozen=True)
class Mapping:
    """How to read one kind of file. Fields left None are filled by auto-detection."""

    preset: str | None = None
    tree: str | None = None
    objects: dict[str, ObjectMap] = field(default_factory=dict)
    multiplicities: dict[str, int] = field(default_factory=dict)
    cut: str | None = None
    weight: str | None = None
    dataset: str | None = None  # HDF5: dataset name (ADC2021 `Particles` or a 2-D table)

    def schema(self) -> ObjectSchema:
        return ObjectSchema({**DEFAULT_MULTIPLICITIES, **self.multiplicities})

    def resolved(self, preset: str) -> Mapping:
        """This mapping on top of a preset: user entries win, per object and per key."""
        base = PRESETS[self.preset or preset]
        objects = dict(base["objects"])
        for name, om in self.objects.items():
            objects[name] = om
        schema = self.schema()
        objects = {k: v for k, v in objects.items() if schema.multiplicities.get(k, 0) > 0 or k == "met"}
        return replace(self, preset=self.preset or preset, tree=self.tree or base["tree"], objects=objects)

    def cut_branches(self) -> list[str]:
        return _names_in(self.cut) if self.cut else []

    def to_dict(self) -> dict:
        return {
            "preset": self.preset, "tree": self.tree, "cut": self.cut, "weight": self.weight,
            "dataset": self.dataset, "multiplicities": dict(self.multiplicities),
            "objects": {k: vars(v).copy() for k, v in self.objects.items()},
        }

    @classmethod
    def from_dict(cls, d: dict, source: str = "mapping") -> Mapping:
        from adkit.validation import MAPPING, check_document

        known = {"preset", "tree", "cut", "weight", "dataset", "multiplicities", "objects"}
        unknown = set(d) - known if isinstance(d, dict) else set()
        if unknown:
            raise ConfigError(f"{source}: unknown key(s) {sorted(unknown)}; valid: {sorted(known)}")
        check_document(d, MAPPING, source)
        if d.get("preset") is not None and d["preset"] not in PRESETS:
            raise ConfigError(f"{source}: unknown preset {d['preset']!r}; valid: {', '.join(PRESETS)}")
        objects = {}
        for name, om in (d.get("objects") or {}).items():
            if not isinstance(om, dict) or "pt" not in om:
                raise ConfigError(f"{source}: object {name!r} needs at least a 'pt' branch")
            bad = set(om) - {"pt", "eta", "phi", "min_pt", "max_abs_eta"}
            if bad:
                raise ConfigError(f"{source}: object {name!r} has unknown key(s) {sorted(bad)}")
            objects[name] = ObjectMap(**om)
        m = cls(preset=d.get("preset"), tree=d.get("tree"), objects=objects,
                multiplicities=dict(d.get("multiplicities") or {}), cut=d.get("cut"),
                weight=d.get("weight"), dataset=d.get("dataset"))
        m.schema()  # validates multiplicities
        if m.cut:
            _names_in(m.cut, source)
        return m

    @classmethod
    def load(cls, path: str | Path) -> Mapping:
        import yaml

        from adkit.io.files import read_text

        p = Path(path)
        try:
            d = yaml.safe_load(read_text(p, "mapping")) or {}
        except yaml.YAMLError as e:
            raise ConfigError(f"{p}: not valid YAML ({str(e).splitlines()[0]})") from None
        if not isinstance(d, dict):
            raise ConfigError(f"{p}: a mapping file must be a YAML dictionary")
        return cls.from_dict(d, str(p))


_OPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Mod, ast.BitAnd, ast.BitOr, ast.BitXor,
        ast.USub, ast.UAdd, ast.Invert, ast.Not,
        ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq)
_NODES = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Compare, ast.Name, ast.Load, ast.Constant, ast.Call)


def _names_in(expr: str, source: str = "cut") -> list[str]:
    """Branch names used by an event cut such as ``MET_pt > 20 & (nJet >= 2)``.

    The cut is checked against a whitelist: branch names, numbers of bounded size, + - * / %,
    comparisons, & | ^ ~ and abs(). No exponentiation, no attributes, no other calls, so
    evaluating it over arrays costs a few vector operations per node and cannot run away.
    """
    from adkit.validation import LIMITS

    hint = "may use branch names, numbers, + - * / %, comparisons, & | ~ and abs() only"
    if not isinstance(expr, str) or len(expr) > LIMITS["cut_chars"]:
        raise ConfigError(f"{source}: the cut must be a text of at most {LIMITS['cut_chars']} characters")
    try:
        tree = ast.parse(expr, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise ConfigError(f"{source}: cannot parse cut {expr!r}") from None
    nodes = list(ast.walk(tree))
    if len(nodes) > LIMITS["cut_nodes"]:
        raise ConfigError(f"{source}: cut {expr!r} is too long ({len(nodes)} terms, at most {LIMITS['cut_nodes']})")
    for node in nodes:
        if isinstance(node, ast.BoolOp):
            raise ConfigError(f"{source}: cut {expr!r}: use & and | (with parentheses) instead of 'and'/'or'")
        if not isinstance(node, _NODES + _OPS):
            raise ConfigError(f"{source}: cut {expr!r} {hint}")
        if isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name) and node.func.id == "abs"
                                               and len(node.args) == 1 and not node.keywords):
            raise ConfigError(f"{source}: cut {expr!r} may call abs(x) only")
        if isinstance(node, ast.Constant):
            ok = isinstance(node.value, (int, float)) and not isinstance(node.value, bool) or node.value in (True, False)
            if not ok or (not isinstance(node.value, bool) and not abs(node.value) <= LIMITS["cut_constant"]):
                raise ConfigError(f"{source}: cut {expr!r}: constants must be numbers within "
                                  f"±{LIMITS['cut_constant']:g}")
    return sorted({n.id for n in nodes if isinstance(n, ast.Name) and n.id != "abs"})


def evaluate_cut(expr: str, columns: dict[str, np.ndarray], source: str = "cut") -> np.ndarray:
    """Boolean event mask of a cut (checked by :func:`_names_in` first) over flat per-event columns."""
    names = _names_in(expr, source)
    missing = [n for n in names if n not in columns]
    if missing:
        raise ConfigError(f"{source}: cut {expr!r} names {missing[0]!r}, which is not a branch it can read")
    for n in names:
        if columns[n].ndim != 1 or columns[n].dtype.kind not in "fiub":
            raise InputError(f"{source}: cut branch {n!r} is not one number per event (a jagged or text branch); "
                             "cut on per-event branches only")
    code = compile(ast.parse(expr, mode="eval"), "<cut>", "eval")
    with np.errstate(all="ignore"):
        try:
            mask = eval(code, {"__builtins__": {}, "abs": np.abs}, columns)
        except (TypeError, ValueError, ZeroDivisionError) as e:
            raise ConfigError(f"{source}: cut {expr!r} cannot be evaluated ({type(e).__name__}: {e})") from None
    mask = np.asarray(mask)
    n = len(next(iter(columns.values()))) if columns else 0
    if mask.shape != (n,) or mask.dtype.kind not in "bi":
        raise ConfigError(f"{source}: cut {expr!r} does not give one true/false value per event")
    return mask.astype(bool)
