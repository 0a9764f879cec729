"""The ground: what every other package shares and nothing of the project is imported by.

``stream`` (the record types: the one contract between producers and analysis), ``errors`` (the error
tree and exit codes), ``histogram`` (the DDSketch wire format), ``tomlfile`` (TOML to pydantic, one-line
errors), ``atomicfile``. Imports no other stagegate package (the import-linter contract in pyproject.toml).
"""

__version__ = "0.1.0"
