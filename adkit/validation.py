"""Every value a user or a model file gives adkit, validated in one place before any work.

- :data:`PARAM_RULES`: detector hyper-parameters by name (type and range); the registry
  applies them when a detector is built, from ``--param`` or from a model file, so a
  stranger's model cannot ask for a layer of 10⁹ units before anything is allocated.
- JSON schemas for the run configs (``train``/``distill --config``), the mapping and the
  model manifest, with size limits; :func:`check_document` applies them.
- checkers for command-line numbers: rates, false-positive rates, seeds, event counts,
  scheduler addresses.
"""
from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from adkit.errors import ConfigError, ModelFileError

SEED_MAX = 2**32 - 1
MAX_GENERATE_EVENTS = 50_000_000
#: Limits on model files from strangers, checked before anything is allocated.
#: ``tensor_bytes``: the tensors of a model file once decompressed (declared in the safetensors header,
#: checked before it is inflated); ``network_bytes``: the float32 weights of a torch network, counted on
#: torch's meta device before it is built; ``window``: samples per window of a series model;
#: ``array_bytes``: one array a data or series file asks adkit to hold (an .npy/.npz header, an HDF5
#: chunk); ``score_bytes``: the activations of one scoring step (wide networks score fewer events a step).
LIMITS = {"manifest_bytes": 16 << 20, "tensor_bytes": 512 << 20, "zip_entries": 8, "json_depth": 48,
          "features": 100_000, "width": 65_536, "layers": 32, "multiplicity": 1000, "thresholds": 1000,
          "string": 100_000, "cut_chars": 1000, "cut_nodes": 200, "cut_constant": 1e12,
          "network_bytes": 1 << 30, "window": 1 << 20, "array_bytes": 2 << 30, "chunk_bytes": 256 << 20,
          "score_bytes": 256 << 20, "yaml_nodes": 100_000}


@dataclass(frozen=True)
class Rule:
    """Type and range of one hyper-parameter. ``kind``: int, float, ints (an int or a list of them), bool,
    spec (a precision string or mapping), choice (one of ``words``), detectors (``name[:score],...``,
    the names checked against the registry by the detector that takes them)."""

    kind: str
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    none_ok: bool = False
    words: tuple[str, ...] = ()  # strings also accepted by a numeric parameter (gamma='scale')

    def check(self, name: str, value: Any, source: str) -> None:
        where = f"{source}: {name}={value!r}"
        if value is None:
            if self.none_ok:
                return
            raise ConfigError(f"{where}: a value is required")
        if isinstance(value, str) and value in self.words:
            return
        if self.kind == "choice":
            raise ConfigError(f"{where}: expected one of {', '.join(self.words)}")
        if self.kind == "spec":  # a precision: "KIND=ap_fixed<W,I>,..." or {kind: type}, parsed by its detector
            if not isinstance(value, (str, dict)) or len(str(value)) > LIMITS["string"]:
                raise ConfigError(f"{where}: expected KIND=ap_fixed<W,I> items or a mapping of them")
            return
        if self.kind == "detectors":
            if not isinstance(value, str) or not _DETECTORS.fullmatch(value):
                raise ConfigError(f"{where}: expected detector names, each with an optional :score, joined by commas")
            return
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: expected true or false")
            return
        if self.kind == "str":
            if not isinstance(value, str) or len(value) > 200:
                raise ConfigError(f"{where}: expected a short text")
            return
        if self.kind == "ints":
            items = list(value) if isinstance(value, (list, tuple)) else [value]
            if not items or len(items) > LIMITS["layers"]:
                raise ConfigError(f"{where}: expected 1 to {LIMITS['layers']} positive integers")
            for v in items:
                Rule("int", self.lo, self.hi).check(name, v, source)
            return
        numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not numeric or (self.kind == "int" and not float(value).is_integer()):
            want = "an integer" if self.kind == "int" else "a number"
            extra = f" or one of {', '.join(self.words)}" if self.words else ""
            raise ConfigError(f"{where}: expected {want}{extra}")
        v = float(value)
        if not math.isfinite(v):
            raise ConfigError(f"{where}: must be finite")
        low_bad = self.lo is not None and (v <= self.lo if self.lo_open else v < self.lo)
        if low_bad or (self.hi is not None and v > self.hi):
            lo = "" if self.lo is None else f"{'>' if self.lo_open else '>='} {self.lo:g}"
            hi = "" if self.hi is None else f"<= {self.hi:g}"
            raise ConfigError(f"{where}: must be {' and '.join(x for x in (lo, hi) if x)}")


_DETECTORS = re.compile(r"[a-z][a-z0-9_-]{0,40}(:[a-z][a-z0-9_]{0,40})?(,[a-z][a-z0-9_-]{0,40}(:[a-z][a-z0-9_]{0,40})?){0,15}")


def _int(lo: float, hi: float, none_ok: bool = False) -> Rule:
    return Rule("int", lo, hi, none_ok=none_ok)


def _pos(hi: float = 1e12, none_ok: bool = False, words: tuple[str, ...] = ()) -> Rule:
    return Rule("float", 0, hi, lo_open=True, none_ok=none_ok, words=words)


def choice(*values: str) -> Rule:
    """A string parameter that takes one of ``values``."""
    return Rule("choice", words=values)


W = LIMITS["width"]
#: The rules of parameters every detector that has them shares; a detector class adds or replaces
#: its own (``Detector.param_rules``: its score kinds, its basis, its kernels).
PARAM_RULES: dict[str, Rule] = {
    "latent_dim": _int(1, 4096), "hidden": Rule("ints", 1, W), "width": _int(1, W), "filters": Rule("ints", 1, 4096),
    "n_channels": _int(1, 10_000, none_ok=True), "epochs": _int(1, 10_000_000, none_ok=True),
    "batch_size": _int(1, 100_000_000, none_ok=True), "lr": _pos(10.0), "patience": _int(0, 1_000_000, none_ok=True), "validation_fraction": Rule("float", 0, 0.99),
    "seed": _int(0, SEED_MAX), "beta": Rule("float", 0, 1e6), "n_estimators": _int(1, 100_000),
    "max_samples": _pos(1e9, words=("auto",)), "n_train": _int(2, 1e9), "n_landmarks": _int(2, 100_000), "bond_dim": _int(1, 4096),
    "local_dim": _int(1, 64), "init_noise": Rule("float", 0, 10), "n_centres": _int(1, 10_000_000, none_ok=True),
    "sigma": _pos(none_ok=True), "lam": _pos(), "n_expected": _pos(none_ok=True), "max_iter": _int(1, 10_000_000),
    "tol": _pos(1.0), "cg_max_iter": _int(1, 10_000_000), "memory_mb": Rule("float", 0, 1e7), "weight_clip": _pos(1e6),
    "nu": Rule("float", 0, 1, lo_open=True), "gamma": _pos(words=("scale", "auto")), "k": _int(1, 100_000),
    "shots": _int(1, 1e9, none_ok=True), "reps": _int(1, 100), "angle_scale": _pos(1e6),
    "sparsity": Rule("float", 0, 0.99), "C": _pos(), "smear": Rule("float", 0, 1e6),
    "feature_map": choice("dense_u", "zz"), "method": choice("exact", "qiskit"),
    "standardize": Rule("bool"), "normalize": Rule("bool"), "cell": choice("gru", "lstm"), "units": _int(1, W),
    "precision": Rule("spec", none_ok=True),
    "layer_precision": Rule("spec", none_ok=True),
    # pyod's range: at most half the training events called anomalous
    "contamination": Rule("float", 0, 0.5, lo_open=True),
}


def block_rows(n_columns: int, most: int) -> int:
    """Rows of a kernel block (events × support vectors or centres, float64, with the kernel's
    temporaries: about 32 bytes an entry) that keep one block under ``LIMITS["score_bytes"]``."""
    return int(max(1, min(most, LIMITS["score_bytes"] // (32 * max(1, int(n_columns))))))


def check_params(params: dict[str, Any], source: str, rules: dict[str, Rule] | None = None) -> None:
    """Validate hyper-parameters by name: ``rules`` (a detector class's own, over :data:`PARAM_RULES`);
    unknown names are the detector's to refuse."""
    rules = PARAM_RULES if rules is None else {**PARAM_RULES, **rules}
    for name, value in params.items():
        rule = rules.get(name)
        if rule is not None:
            rule.check(name, value, source)


# --- command-line numbers ---------------------------------------------------------------------------

def check_rates(values: Sequence[float], option: str, bunch_rate_mhz: float = 40.0) -> list[float]:
    """Trigger rates in kHz: finite, positive, below the input rate."""
    top = bunch_rate_mhz * 1000.0
    for v in values:
        if not math.isfinite(v) or v <= 0 or v >= top:
            raise ConfigError(f"{option}: rate {v:g} kHz must be > 0 and below the {top:g} kHz input rate")
    return list(values)


def check_positive(values: Sequence[float], option: str) -> list[float]:
    for v in values:
        if not math.isfinite(v) or v <= 0:
            raise ConfigError(f"{option}: {v:g} must be a positive finite number")
    return list(values)


def check_fprs(values: Sequence[float], option: str) -> list[float]:
    for v in values:
        if not math.isfinite(v) or not 0 < v < 1:
            raise ConfigError(f"{option}: false-positive rate {v:g} must be between 0 and 1")
    return list(values)


_ADDRESS = re.compile(r"^((tcp|tls|ucx|ws|wss|inproc)://)?[A-Za-z0-9_.\-\[\]:]+(:\d{1,5})?/?$")


def check_scheduler(address: str | None) -> str | None:
    if address is None:
        return None
    if not _ADDRESS.match(address) or len(address) > 255:
        raise ConfigError(f"--scheduler {address!r}: expected a dask scheduler address such as tcp://host:8786")
    port = address.rstrip("/").rsplit(":", 1)[-1]
    if port.isdigit() and not 0 < int(port) < 65536:
        raise ConfigError(f"--scheduler {address!r}: port {port} is out of range")
    return address


# --- documents: configs, mappings, the model manifest ---------------------------------------------------

_STR = {"type": "string", "maxLength": 4096}
_STRS = {"anyOf": [_STR, {"type": "array", "items": _STR, "maxItems": 10_000}]}
_NUM = {"type": "number"}
_NUMS = {"anyOf": [_STR, _NUM, {"type": "array", "items": _NUM, "maxItems": 100}]}
_INT = {"type": "integer"}

TRAIN_CONFIG = {"type": "object", "additionalProperties": False, "properties": {
    "detector": _STR, "model": _STR, "epochs": {**_INT, "minimum": 1}, "seed": {**_INT, "minimum": 0, "maximum": SEED_MAX},
    "features": _STRS, "conditions": _STRS, "params": {"type": "object"}, "mapping": {"anyOf": [_STR, {"type": "object"}]},
    "data": _STRS, "encoder": _STR}}
DISTILL_CONFIG = {"type": "object", "additionalProperties": False, "properties": {
    "hidden": {"anyOf": [_STR, {"type": "array", "items": {**_INT, "minimum": 1, "maximum": W}, "maxItems": 32}]},
    "precision": {"anyOf": [_STR, {"type": "object"}]}, "layer_precision": {"type": "object"},
    "sparsity": {**_NUM, "minimum": 0, "exclusiveMaximum": 1}, "epochs": {**_INT, "minimum": 1},
    "quantization": {"enum": ["uniform", "hgq"]}, "bit_cost": {**_NUM, "minimum": 0, "maximum": 1},
    "lr_schedule": {"enum": ["constant", "cosine"]},
    "seed": {**_INT, "minimum": 0, "maximum": SEED_MAX}, "lr": {**_NUM, "exclusiveMinimum": 0},
    "batch_size": {**_INT, "minimum": 1}, "transform": _STR, "data": _STRS, "rates": _NUMS, "part": _STR,
    "clock": {**_NUM, "exclusiveMinimum": 0}, "backend": {"enum": ["Vitis", "Vivado"]},
    "augment": {**_NUM, "minimum": 0},
    "augment_method": {"enum": ["objects", "mix", "uniform", "shuffle", "smear", "bursts"]},
    "teacher_score": _STR, "cell": {"enum": ["gru", "lstm"]}, "units": {**_INT, "minimum": 1, "maximum": W},
    "fprs": _NUMS}}
_OBJECT_MAP = {"type": "object", "required": ["pt"], "additionalProperties": False, "properties": {
    "pt": _STR, "eta": {"anyOf": [_STR, {"type": "null"}]}, "phi": {"anyOf": [_STR, {"type": "null"}]},
    "min_pt": {**_NUM, "minimum": 0}, "max_abs_eta": {"anyOf": [{**_NUM, "exclusiveMinimum": 0}, {"type": "null"}]},
    "unit": {"anyOf": [{"enum": ["GeV", "MeV", "TeV"]}, {"type": "null"}]}}}
MAPPING = {"type": "object", "additionalProperties": False, "properties": {
    "preset": {"anyOf": [_STR, {"type": "null"}]}, "tree": {"anyOf": [_STR, {"type": "null"}]},
    "cut": {"anyOf": [{"type": "string", "maxLength": LIMITS["cut_chars"]}, {"type": "null"}]},
    "weight": {"anyOf": [_STR, {"type": "null"}]}, "dataset": {"anyOf": [_STR, {"type": "null"}]},
    "unit": {"anyOf": [{"enum": ["GeV", "MeV", "TeV"]}, {"type": "null"}]},
    "met_from": {"anyOf": [{"enum": ["objects"]}, {"type": "null"}]},
    "multiplicities": {"anyOf": [{"type": "null"}, {"type": "object", "additionalProperties": {
        **_INT, "minimum": 0, "maximum": LIMITS["multiplicity"]}}]},
    "objects": {"anyOf": [{"type": "null"}, {"type": "object", "additionalProperties": _OBJECT_MAP}]}}}
_THRESHOLD = {"type": "object", "required": ["name", "value", "rate_khz", "fpr"], "additionalProperties": False,
              "properties": {"name": {"type": "string", "maxLength": 64}, "value": _NUM, "rate_khz": _NUM, "fpr": _NUM}}
MANIFEST = {"type": "object", "required": ["format", "format_version", "detector", "input"], "properties": {
    "format": _STR, "format_version": _INT, "adkit_version": _STR, "created": _STR,
    "detector": {"type": "object", "required": ["name", "config"], "properties": {
        "name": {"type": "string", "maxLength": 64}, "config": {"type": "object", "properties": {
            "params": {"type": "object"}}}}},
    "input": {"type": "object", "required": ["kind", "columns"], "properties": {
        "kind": {"enum": ["objects", "table", "series"]},
        "columns": {"type": "array", "items": _STR, "maxItems": LIMITS["features"]}}},
    "mapping": {"anyOf": [{"type": "null"}, MAPPING]},
    "preprocessing": {"type": "object"},
    "thresholds": {"type": "array", "items": _THRESHOLD, "maxItems": LIMITS["thresholds"]},
    "provenance": {"type": "object"}, "metrics": {"type": "object"},
    "encoder": {"anyOf": [{"type": "null"}, {"$ref": "#"}]},
    "input_ranges": {"type": "object", "required": ["min", "max"], "additionalProperties": False, "properties": {
        "min": {"type": "array", "items": _NUM, "maxItems": LIMITS["features"]},
        "max": {"type": "array", "items": _NUM, "maxItems": LIMITS["features"]},
        "populated": {"type": "array", "items": _NUM, "maxItems": LIMITS["features"]}, "events": _INT}}}}


def json_depth(doc: Any, limit: int = LIMITS["json_depth"]) -> int:
    """Nesting depth of a JSON document, iteratively (a hostile document cannot blow the stack)."""
    deepest, stack = 0, [(doc, 1)]
    while stack:
        node, d = stack.pop()
        deepest = max(deepest, d)
        if deepest > limit:
            return deepest
        if isinstance(node, dict):
            stack.extend((v, d + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, d + 1) for v in node)
    return deepest


def check_document(doc: Any, schema: dict, source: str, error: type = ConfigError) -> None:
    """Validate ``doc`` against ``schema``; the first problem becomes one line naming where it is."""
    import jsonschema

    if json_depth(doc) > LIMITS["json_depth"]:
        raise error(f"{source}: nested deeper than {LIMITS['json_depth']} levels")
    err = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(doc))
    if err is not None:
        where = "/".join(str(p) for p in err.absolute_path) or "(top level)"
        limits = {"maxLength": "is longer than {} characters", "maxItems": "has more than {} items",
                  "maxProperties": "has more than {} entries"}
        msg = (limits[err.validator].format(err.validator_value) if err.validator in limits
               else err.message if len(err.message) < 200 else err.message[:200] + "…")
        raise error(f"{source}: {where}: {msg}")


def check_manifest(manifest: Any, source: str) -> None:
    check_document(manifest, MANIFEST, source, ModelFileError)


def load_yaml(text: str, source: str) -> Any:
    """YAML text (a config, a mapping, a ``--param`` value) as plain data, safely: no Python objects,
    no anchors and aliases (a few lines of nested aliases expand to billions of nodes: "billion
    laughs"), at most ``LIMITS["yaml_nodes"]`` nodes. Errors are one :class:`ConfigError` line."""
    import yaml

    class Loader(yaml.SafeLoader):
        nodes = 0

        def compose_node(self, parent, index):
            if self.check_event(yaml.AliasEvent) or getattr(self.peek_event(), "anchor", None):
                mark = self.peek_event().start_mark
                raise ConfigError(f"{source}: line {mark.line + 1}: YAML anchors and aliases (&name, *name) are not "
                                  "accepted; write the values out")
            Loader.nodes += 1
            if Loader.nodes > LIMITS["yaml_nodes"]:
                raise ConfigError(f"{source}: more than {LIMITS['yaml_nodes']} YAML values; not a config adkit reads")
            return super().compose_node(parent, index)

    try:
        return yaml.load(text, Loader=Loader)  # a SafeLoader subclass
    except yaml.YAMLError as e:
        raise ConfigError(f"{source}: not valid YAML ({str(e).splitlines()[0]})") from None
