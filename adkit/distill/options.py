"""How a student is made and checked: one set of defaults for ``adkit distill``, its ``--config``
file and the library functions (:func:`adkit.distill.distill`, :func:`adkit.distill.series.distill_series`)."""
from __future__ import annotations

from dataclasses import dataclass, fields

from adkit.errors import ConfigError

#: The student's hidden layers and training batch when none are given, per kind of teacher.
EVENT_HIDDEN, SERIES_HIDDEN = (32, 16), (8,)
EVENT_BATCH, SERIES_BATCH = 1024, 256
#: Synthesis routes: HLS synthesis of hls4ml's project (vendor tools), Yosys on da4ml's Verilog.
SYNTH = ("hls", "yosys")


@dataclass(frozen=True)
class DistillOptions:
    """Every setting of a distillation. A value comes from the command line, else from the ``--config``
    file, else the default here (:meth:`from_sources`)."""

    # the student and its training
    student: str = "nn"  #: "nn": the quantized MLP; "bdt": boosted decision trees (conifer); "selfsup": AXOL1TL v6 style
    trees: int = 60  #: --student bdt: boosting rounds
    depth: int = 4  #: --student bdt: depth of each tree
    hidden: tuple[int, ...] | None = None  #: None: EVENT_HIDDEN, or SERIES_HIDDEN for a series teacher
    precision: str | dict | None = None
    layer_precision: dict | None = None
    sparsity: float = 0.0
    quantization: str = "uniform"  #: "hgq": per-weight bit widths learned as HGQ/PQuantML do
    bit_cost: float = 1e-6  #: --quantization hgq: the weight of the bit operations (EBOPs) in the loss
    epochs: int = 30
    lr: float = 3e-3
    lr_schedule: str = "constant"  #: "cosine": the learning rate decays to 0 over the epochs
    batch_size: int | None = None  #: None: EVENT_BATCH, or SERIES_BATCH
    seed: int = 0
    transform: str = "auto"
    augment: float | None = None  #: None: the teacher kind's default (adkit.distill.student, .series)
    augment_method: str | None = None
    teacher_score: str | None = None
    data: tuple[str, ...] = ()
    # a time-series teacher's student
    cell: str = "gru"
    units: int = 8
    fprs: tuple[float, ...] = (0.01, 0.001)
    # the checks and the firmware
    rates: tuple[float, ...] = (1.0, 10.0, 100.0)
    target: str = "fpga"
    strategy: str = "latency"
    backend: str = "Vitis"
    part: str | None = None
    clock: float | None = None
    synth: str | None = None  #: "hls": HLS synthesis (Vitis/Vivado); "yosys": Yosys on the --rtl Verilog
    rtl: str | None = None
    cpu_format: str = "torchscript"
    preset: str | None = None
    min_kept: float = 0.5

    @classmethod
    def from_sources(cls, *sources: dict) -> DistillOptions:
        """Each setting from the first of ``sources`` that gives it (None or empty: not given), else the
        default; lists given as text ("32,16", "1,10,100") are read and checked here."""
        values = {}
        for f in fields(cls):
            for source in sources:
                v = source.get(f.name)
                if v is not None and v != () and v != "" and v != []:
                    values[f.name] = v
                    break
        for name, read in (("hidden", _sizes), ("rates", _rates), ("fprs", _fractions), ("data", tuple),
                           ("synth", _synth)):
            if name in values:
                values[name] = read(values[name])
        return cls(**values)

    def hidden_for(self, series: bool) -> tuple[int, ...]:
        return self.hidden or (SERIES_HIDDEN if series else EVENT_HIDDEN)

    def batch_for(self, series: bool) -> int:
        return self.batch_size or (SERIES_BATCH if series else EVENT_BATCH)


def _numbers(value, option: str, kind=float) -> tuple:
    try:
        items = value.split(",") if isinstance(value, str) else list(value)
        return tuple(kind(v) for v in items if str(v).strip())
    except (ValueError, TypeError):
        raise ConfigError(f"--{option} {value!r}: expected comma-separated numbers") from None


def _sizes(value) -> tuple[int, ...]:
    from adkit.validation import check_params

    try:
        sizes = tuple(int(v) for v in (value.split(",") if isinstance(value, str) else value))
    except (ValueError, TypeError):
        raise ConfigError(f"--hidden {value!r}: expected comma-separated layer sizes, e.g. 32,16") from None
    check_params({"hidden": list(sizes)}, "--hidden")
    return sizes


def _rates(value) -> tuple[float, ...]:
    from adkit.validation import check_rates

    return tuple(check_rates(_numbers(value, "rates"), "--rates"))


def _synth(value) -> str | None:
    """``synth`` as given on the command line ("hls", "yosys") or in a config file (true: "hls")."""
    if value is True or value is False:
        return "hls" if value else None
    if value not in SYNTH:
        raise ConfigError(f"synth {value!r}: expected one of {', '.join(SYNTH)}")
    return value


def _fractions(value) -> tuple[float, ...]:
    fprs = _numbers(value, "fprs")
    if not fprs or not all(0 < f < 1 for f in fprs):
        raise ConfigError(f"--fprs {value}: give fractions of the background windows in (0, 1), e.g. 0.01,0.001")
    return fprs
