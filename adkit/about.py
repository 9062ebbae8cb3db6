"""What every layer may know about adkit itself: its version and the model file a command uses by default."""

__version__ = "0.1.0"
#: The model file a command writes or reads when none is named.
DEFAULT_MODEL = "model.adkit"
