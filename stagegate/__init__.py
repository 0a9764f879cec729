"""stagegate: decide, with evidence, whether a staging deployment is promoted or rolled back."""

from stagegate_core import __version__

__all__ = ["__version__"]
