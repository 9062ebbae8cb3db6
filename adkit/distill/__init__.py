"""Knowledge distillation: a small quantized student learns a teacher's (log-)score
(:mod:`adkit.distill.student`)."""
from adkit.distill.student import DISTILL_SEED, MIN_EVENTS, distill, teacher_target

__all__ = ["DISTILL_SEED", "MIN_EVENTS", "distill", "teacher_target"]
