"""Sub-commands of ``stagegate``, one module each, discovered by ``stagegate.cli``."""
