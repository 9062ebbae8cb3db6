"""Knowledge distillation: a small quantized student learns a teacher's (log-)score
(:mod:`adkit.distill.student`; settings: :class:`~adkit.distill.options.DistillOptions`; held-out checks and
thresholds: :mod:`adkit.distill.heldout`)."""
from adkit.distill.options import DistillOptions
from adkit.distill.student import DISTILL_SEED, MIN_EVENTS, distill, teacher_target

__all__ = ["DISTILL_SEED", "MIN_EVENTS", "DistillOptions", "distill", "teacher_target"]
