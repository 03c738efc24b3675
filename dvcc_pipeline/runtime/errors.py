"""Operational faults (disk, permissions, warehouse) as one Dutch line that says what to do.

The traceback belongs in `logs/`; the operator reads which file or resource failed and the
next step. A leaf: every concern may raise or describe these faults, so this module imports
nothing of the package.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import duckdb


class WarehouseUnusable(Exception):
    """The warehouse cannot be used; the message is one Dutch line saying what to do."""


def is_lock_error(exc: BaseException) -> bool:
    return isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower()


def display_name(name: str) -> str:
    """A file name as text: bytes that are not UTF-8 shown as `\\xNN`, so a receipt can hold any name.

    The file itself keeps its bytes; only what people read is escaped.
    """
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def _resource(exc: OSError, fallback: str | Path | None) -> str:
    name = exc.filename if exc.filename is not None else fallback
    if name is None:
        return "een bestand in DVCC_HOME"
    return display_name(os.fsdecode(name) if isinstance(name, bytes) else str(name))


def describe(exc: BaseException, resource: str | Path | None = None) -> str:
    """One Dutch line for an operational fault."""
    if isinstance(exc, WarehouseUnusable):
        return str(exc)
    no_space = isinstance(exc, OSError) and exc.errno == errno.ENOSPC
    if no_space or "no space left" in str(exc).lower():
        where = _resource(exc, resource) if isinstance(exc, OSError) else str(resource or "DVCC_HOME")
        return (
            f"Schijf vol bij het schrijven van {where}: maak ruimte vrij en start `dvcc run` opnieuw; "
            "wat niet af was, is teruggedraaid en blijft in landing staan."
        )
    if isinstance(exc, PermissionError):
        return (
            f"Geen toegang tot {_resource(exc, resource)}: geef de gebruiker die dvcc draait lees- en schrijfrechten "
            "en start opnieuw."
        )
    if is_lock_error(exc):
        return (
            "Het datawarehouse is in gebruik door een ander proces (een lopende run of dvcc ui); "
            "wacht tot dat klaar is en start opnieuw."
        )
    if isinstance(exc, duckdb.Error):
        first = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        return f"Het datawarehouse gaf een fout ({first}); details in logs/. Blijft het, herbouw met `dvcc herstel`."
    if isinstance(exc, OSError):
        return f"Bestandsfout bij {_resource(exc, resource)}: {exc.strerror or exc}; los dit op en start opnieuw."
    return f"Onverwachte fout ({type(exc).__name__}); details in logs/."
