"""Run configuration: YAML config files (validated against their schema) and NAME=VALUE parameters."""
from __future__ import annotations

from pathlib import Path

from adkit.errors import ConfigError

TRAIN_KEYS = {"detector", "model", "epochs", "seed", "features", "conditions", "params", "mapping", "data", "encoder"}
DISTILL_KEYS = {"hidden", "precision", "layer_precision", "sparsity", "quantization", "bit_cost", "lr_schedule", "epochs", "seed", "lr", "batch_size",
                "transform", "data", "rates", "part", "clock", "backend", "augment", "augment_method",
                "teacher_score", "cell", "units", "fprs"}


def load_config(path: str | Path | None, kind: str = "train") -> dict:
    """A ``train`` or ``distill`` YAML config as a dict, checked key by key (``{}`` without a path).
    In a train config ``model:`` is the old spelling of ``detector:``."""
    if not path:
        return {}
    from adkit.files import read_text
    from adkit.validation import DISTILL_CONFIG, TRAIN_CONFIG, check_document, load_yaml

    valid = TRAIN_KEYS if kind == "train" else DISTILL_KEYS
    p = Path(path)
    cfg = load_yaml(read_text(p, "config"), str(p)) or {}
    bad = set(cfg) - valid if isinstance(cfg, dict) else {"(not a dictionary)"}
    if bad:
        raise ConfigError(f"{p}: unknown key(s) {sorted(bad)}; valid: {sorted(valid)}")
    check_document(cfg, TRAIN_CONFIG if kind == "train" else DISTILL_CONFIG, str(p))
    if kind == "train" and "model" in cfg:
        cfg.setdefault("detector", cfg.pop("model"))
    return cfg


def parse_params(items) -> dict:
    """``NAME=VALUE`` strings → {name: value}, values read as YAML scalars or lists."""
    from adkit.validation import load_yaml

    out = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--param {item!r}: expected NAME=VALUE")
        k, v = item.split("=", 1)
        try:
            out[k.strip()] = load_yaml(v, f"--param {k.strip()}")
        except ConfigError as e:
            raise ConfigError(f"--param {item[:80]!r}: the value is not a number, a word or a [list] ({e})") from None
    return out


def csv_floats(value: str | None, option: str) -> list[float]:
    """``"1,10,100"`` → [1.0, 10.0, 100.0] (a one-line error naming ``option`` otherwise)."""
    if not value:
        return []
    try:
        return [float(v) for v in str(value).split(",") if v.strip()]
    except ValueError:
        raise ConfigError(f"{option}: expected comma-separated numbers, got {value!r}") from None


def signal_files(signals) -> dict[str, list[str]]:
    """``NAME=FILE`` strings → {name: [files]}, each file noted as an input."""
    from adkit.io.inputs import note_input

    sig: dict[str, list[str]] = {}
    for s in signals:
        if "=" not in s:
            raise ConfigError(f"--signal {s!r}: expected NAME=FILE")
        name, path = s.split("=", 1)
        sig.setdefault(name, []).append(str(note_input(path)))
    return sig


def mapping_from(mapping: str | None = None, tree: str | None = None, dataset: str | None = None, config=None):
    """The reading mapping: a YAML file, overridden by ``tree``/``dataset``, else one inline in a config."""
    from dataclasses import replace

    from adkit.io import Mapping

    m = Mapping.load(mapping) if mapping else None
    if m is None and isinstance(config, dict) and config.get("mapping"):
        m = Mapping.from_dict(config["mapping"], "config: mapping") if isinstance(config["mapping"], dict) \
            else Mapping.load(config["mapping"])
    if tree or dataset:
        m = replace(m or Mapping(), tree=tree or (m.tree if m else None), dataset=dataset or (m.dataset if m else None))
    return m


def store_thresholds_in(model, model_path, thresholds: list, say) -> None:
    """Set ``thresholds`` on the model: one of the same name is replaced, the others kept; said either way."""
    from adkit.artifact import merge_thresholds

    model.thresholds, replaced, kept = merge_thresholds(model.thresholds, thresholds)
    say(f"stored thresholds in {model_path}: " + ", ".join(f"{t.name} > {t.value:.6g}" for t in thresholds)
        + (f"; replaced the earlier {', '.join(replaced)}" if replaced else "")
        + (f"; kept {', '.join(kept)}" if kept else ""))

