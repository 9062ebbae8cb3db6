"""Feature schema: collider objects → fixed vectors, and named derived features."""
from adkit.features.schema import CLASS_CODES, DERIVED, FeatureSet, ObjectSchema

__all__ = ["CLASS_CODES", "DERIVED", "FeatureSet", "ObjectSchema"]
