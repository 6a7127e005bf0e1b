"""The package's one version: hatch reads it for the wheel's metadata, the code imports it."""

__version__ = "0.1.0"
