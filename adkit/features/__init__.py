"""Features: the event schema's fixed vectors (defined with the readers in :mod:`adkit.io.schema`),
the fitted input scaling (:mod:`adkit.features.preprocess`) and artificial anomalies
(:mod:`adkit.features.artificial`)."""
from adkit.io.schema import CLASS_CODES, DERIVED, FeatureSet, ObjectSchema

__all__ = ["CLASS_CODES", "DERIVED", "FeatureSet", "ObjectSchema"]
