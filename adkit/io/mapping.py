"""Which tree and branches of a file become which schema objects, and in which units.

Presets cover the common layouts and are chosen from the branches a file has (see
:func:`preset_for`): CMS NanoAOD v9–v14 (``MET_pt``; NanoAOD-like flat trees and Parquet with
the same columns), NanoAOD v15 (MET renamed ``PFMET_pt``), ATLAS PHYSLITE (``CollectionTree``,
momenta in MeV), CMS TreeMaker ntuples (``TreeMaker2/PreSelection``, Lorentz-vector
branches) and Delphes. A user mapping (YAML, or ``--tree``) can override the preset, the tree,
any object's branches and ``unit``, multiplicities, object selections (``min_pt``,
``max_abs_eta``, always in GeV), an event ``cut`` and a ``weight`` branch. Momenta are
converted to GeV when read; the schema is in GeV everywhere after that.

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
    unit: str | None = None  # of pt: GeV, MeV or TeV (None: the mapping's, else the preset's)

    def branches(self) -> list[str]:
        return [b for b in (self.pt, self.eta, self.phi) if b]


#: Factor that turns a momentum in each unit into GeV.
UNITS = {"GeV": 1.0, "MeV": 1e-3, "TeV": 1e3}


def _objs(met: tuple | None, names: dict[str, str], fields: tuple[str, str, str]) -> dict[str, ObjectMap]:
    out = {} if met is None else {"met": ObjectMap(*met)}
    for name, prefix in names.items():
        out[name] = ObjectMap(*(prefix + f for f in fields))
    return out


_CMS = {"electron": "Electron", "muon": "Muon", "jet": "Jet"}
PRESETS: dict[str, dict] = {
    "nanoaod": {"tree": "Events", "unit": "GeV", "about": "CMS NanoAOD v9-v14",
                "objects": _objs(("MET_pt", None, "MET_phi"), {k: v + "_" for k, v in _CMS.items()},
                                 ("pt", "eta", "phi"))},
    "nanoaod-v15": {"tree": "Events", "unit": "GeV", "about": "CMS NanoAOD v15 (MET is PFMET)",
                    "objects": _objs(("PFMET_pt", None, "PFMET_phi"), {k: v + "_" for k, v in _CMS.items()},
                                     ("pt", "eta", "phi"))},
    "physlite": {"tree": "CollectionTree", "unit": "MeV", "met_from": "objects",
                 "about": "ATLAS PHYSLITE (MeV; MET rebuilt from the kept objects)",
                 "objects": _objs(None, {"electron": "AnalysisElectronsAuxDyn.", "muon": "AnalysisMuonsAuxDyn.",
                                         "jet": "AnalysisJetsAuxDyn."}, ("pt", "eta", "phi"))},
    "treemaker": {"tree": "TreeMaker2/PreSelection", "unit": "GeV", "about": "CMS TreeMaker ntuple",
                  "objects": _objs(("MET", None, "METPhi"), {"electron": "Electrons.", "muon": "Muons.",
                                                             "jet": "Jets."},
                                   ("fCoordinates.fPt", "fCoordinates.fEta", "fCoordinates.fPhi"))},
    "delphes": {"tree": "Delphes", "unit": "GeV", "about": "Delphes",
                "objects": _objs(("MissingET.MET", None, "MissingET.Phi"), {k: v + "." for k, v in _CMS.items()},
                                 ("PT", "Eta", "Phi"))},
}
#: Trees a ROOT reader looks for when no tree is named, in this order.
DEFAULT_TREES = ("Events", "Delphes", "CollectionTree", "TreeMaker2/PreSelection")


def preset_for(keys: list[str], tree_names: list[str]) -> str:
    """The preset a file's branches (and tree names) say it is; ``nanoaod`` when nothing else fits."""
    keyset = set(keys)
    if "Delphes" in tree_names or any(k.startswith("MissingET") for k in keys):
        return "delphes"
    if any(k.startswith(("AnalysisJetsAuxDyn", "AnalysisElectronsAuxDyn", "AnalysisMuonsAuxDyn")) for k in keys):
        return "physlite"
    if any(k.endswith("fCoordinates.fPt") for k in keys) or any(t.startswith("TreeMaker2") for t in tree_names):
        return "treemaker"
    if "PFMET_pt" in keyset and "MET_pt" not in keyset:
        return "nanoaod-v15"
    return "nanoaod"


_TOKENS = {"met": ("met", "missing"), "electron": ("electron", "ele"), "muon": ("muon", "mu"), "jet": ("jet",)}
_PT = ("pt", "fpt", "et", "met")


def suggest_mapping(keys: list[str], tree: str | None = None) -> dict:
    """A best-guess mapping from branch names alone: for each object, the shortest branch whose
    name contains the object's name and ends in pt (then its eta/phi siblings). For the message
    of a file that no preset maps; the user checks it and passes it with ``--mapping``."""
    import re

    def split(k: str) -> tuple[str, str]:
        m = re.match(r"^(.*?)([A-Za-z]+)$", k)
        return (m.group(1), m.group(2)) if m else (k, "")

    objects = {}
    for obj, tokens in _TOKENS.items():
        cands = [k for k in keys if split(k)[1].lower() in _PT and any(t in split(k)[0].lower() for t in tokens)
                 and "gen" not in k.lower()]
        if obj == "met":
            cands += [k for k in keys if k.lower() in ("met", "met_et", "met_met")]
        if not cands:
            continue
        pt = min(cands, key=lambda k: (len(k), k))
        prefix, last = split(pt)
        om = {"pt": pt}
        for f in ("eta", "phi"):
            sib = next((k for k in keys if split(k)[0] == prefix and split(k)[1].lower() == f), None)
            if sib is None and obj == "met":
                sib = next((k for k in keys if k.lower() == pt.lower() + f), None)
            if sib:
                om[f] = sib
        objects[obj] = om
    out: dict = {"tree": tree} if tree else {}
    if objects:
        out["objects"] = objects
    return out


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
    unit: str | None = None  # momentum unit of every object not given one (GeV, MeV, TeV)
    met_from: str | None = None  # "objects": MET is the negative vector sum of the kept objects

    def schema(self) -> ObjectSchema:
        return ObjectSchema({**DEFAULT_MULTIPLICITIES, **self.multiplicities})

    def resolved(self, preset: str) -> Mapping:
        """This mapping on top of a preset: user entries win, per object and per key."""
        base = PRESETS[self.preset or preset]
        objects = dict(base["objects"])
        for name, om in self.objects.items():
            objects[name] = om
        schema = self.schema()
        unit = self.unit or base["unit"]
        objects = {k: replace(v, unit=v.unit or unit) for k, v in objects.items() if schema.multiplicities.get(k, 0) > 0 or k == "met"}
        met_from = self.met_from or (None if "met" in self.objects else base.get("met_from"))
        if met_from:
            objects.pop("met", None)
        return replace(self, preset=self.preset or preset, tree=self.tree or base["tree"], objects=objects,
                       unit=unit, met_from=met_from)

    def cut_branches(self) -> list[str]:
        return _names_in(self.cut) if self.cut else []

    def to_dict(self) -> dict:
        return {
            "preset": self.preset, "tree": self.tree, "cut": self.cut, "weight": self.weight,
            "dataset": self.dataset, "multiplicities": dict(self.multiplicities),
            "objects": {k: vars(v).copy() for k, v in self.objects.items()},
            "unit": self.unit, "met_from": self.met_from,
        }

    @classmethod
    def from_dict(cls, d: dict, source: str = "mapping") -> Mapping:
        from adkit.validation import MAPPING, check_document

        known = {"preset", "tree", "cut", "weight", "dataset", "multiplicities", "objects", "unit", "met_from"}
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
            bad = set(om) - {"pt", "eta", "phi", "min_pt", "max_abs_eta", "unit"}
            if bad:
                raise ConfigError(f"{source}: object {name!r} has unknown key(s) {sorted(bad)}")
            objects[name] = ObjectMap(**om)
        m = cls(preset=d.get("preset"), tree=d.get("tree"), objects=objects,
                multiplicities=dict(d.get("multiplicities") or {}), cut=d.get("cut"),
                weight=d.get("weight"), dataset=d.get("dataset"), unit=d.get("unit"), met_from=d.get("met_from"))
        m.schema()  # validates multiplicities
        if m.cut:
            _names_in(m.cut, source)
        return m

    @classmethod
    def load(cls, path: str | Path) -> Mapping:
        from adkit.files import read_text
        from adkit.validation import load_yaml

        p = Path(path)
        d = load_yaml(read_text(p, "mapping"), str(p)) or {}
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
