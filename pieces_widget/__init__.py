"""pieces-widget: manage the local AI models of Pieces OS from a Jupyter cell."""

__version__ = "0.1.0"
