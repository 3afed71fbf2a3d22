"""Exception hierarchy.

Everything a user can get wrong (a spec, a file, a flag) raises `SpecError`; a hardware
model that cannot run an op it was given raises `ModelError`.  The CLI turns both into a
one-line message and exit code 2; any other exception is a bug in cosim (exit code 1).
"""

from __future__ import annotations


class CosimError(Exception):
    """Base class of every error cosim raises on purpose."""


class SpecError(CosimError):
    """Bad user input: a spec file, a workload, a command-line value.

    The message names the file and key, the rule and the value received.
    """


class ModelError(CosimError):
    """A hardware model was asked for something it does not model."""
