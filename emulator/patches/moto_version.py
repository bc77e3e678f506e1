"""The moto version these patches are written against, checked before any is installed.

Every patch reaches into moto's internals (model classes, response handlers, module
globals), which change between releases without notice: on another version a patch
could silently do nothing or break a flow far from its cause.
"""

from __future__ import annotations

#: The moto release every module of ``emulator.patches`` was written and tested against.
PINNED = "5.2.5"


class MotoVersionError(RuntimeError):
    """The installed moto is not the one the patches are written against."""


def check(installed: str) -> None:
    """Refuse to patch any moto release but ``PINNED``, saying what to do instead."""
    if installed != PINNED:
        raise MotoVersionError(
            f"emulator.patches is written against moto {PINNED}, but moto {installed} is "
            f"installed: install moto[server]=={PINNED} (pyproject.toml pins it), or port "
            f"the patches to moto {installed} and update PINNED in emulator/patches/moto_version.py"
        )
