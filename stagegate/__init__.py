"""stagegate: decide, with evidence, whether a staging deployment is promoted or rolled back."""

__version__ = "0.1.0"
