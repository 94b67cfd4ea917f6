"""Office files the readers cannot open themselves, converted by headless LibreOffice.

Old binary Office files (.doc, .xls, .ppt), RTF and OpenDocument (.odt, .ods, .odp) become
.docx, .xlsx or .pptx, which the existing readers parse; any Office file can also become a PDF
for the document preview. LibreOffice runs in a subprocess of its own session with a timeout
and a throw-away profile (`-env:UserInstallation`): two conversions that shared a profile would
collide on its lock. The import filter is named, never guessed, so a damaged .doc fails with a
clear message instead of being imported as a page of binary "text".

Measured on the 2-core box (LibreOffice 7.4, Debian's -nogui packages): about 3.4 s for a small
.doc to .docx, most of it LibreOffice starting with a new profile.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePath

from knowledge.parsing.filetypes import LEGACY_OFFICE_TARGETS, suffix_of
from knowledge.parsing.types import ParseError

RTF_SIGNATURE = b"{\\rtf"

# LibreOffice's import filter per suffix (for .doc also by content: many ".doc" files are RTF).
_IMPORT_FILTERS = {
    "doc": "MS Word 97",
    "xls": "MS Excel 97",
    "ppt": "MS PowerPoint 97",
    "rtf": "Rich Text Format",
    "odt": "writer8",
    "ods": "calc8",
    "odp": "impress8",
}
_EXPORT_FILTERS = {
    "docx": "docx:MS Word 2007 XML",
    "xlsx": "xlsx:Calc MS Excel 2007 XML",
    "pptx": "pptx:Impress MS PowerPoint 2007 XML",
    "pdf": "pdf",
}
_KILL_WAIT_SECONDS = 5.0
_POLL_SECONDS = 0.25


@dataclass(frozen=True)
class OfficeConverter:
    """Where LibreOffice is and how long one conversion may take."""

    binary: str = "soffice"
    timeout: float = 180.0


def convert_legacy(
    data: bytes,
    filename: str,
    converter: OfficeConverter,
    check_stop: Callable[[], None] | None = None,
) -> tuple[bytes, str]:
    """The modern equivalent of a legacy Office file: its bytes and its new file name."""
    suffix = suffix_of(filename)
    target = LEGACY_OFFICE_TARGETS[suffix]
    converted = convert_office(data, filename, target, converter, check_stop)
    return converted, f"{PurePath(filename).stem or 'document'}.{target}"


def convert_office(
    data: bytes,
    filename: str,
    target: str,
    converter: OfficeConverter,
    check_stop: Callable[[], None] | None = None,
) -> bytes:
    """`data` (the file `filename`) converted by LibreOffice to `target` (docx, xlsx, pptx, pdf).

    Raises ParseError with a sentence for the user when LibreOffice is missing, fails or takes
    longer than the converter's timeout; `check_stop()` is called while waiting and may raise
    (ParseCancelled), in which case LibreOffice is killed.
    """
    name = PurePath(filename).name
    suffix = suffix_of(name)
    binary = shutil.which(converter.binary)
    if binary is None:
        raise ParseError(
            f"{name} needs LibreOffice to be read, and LibreOffice is not installed on the "
            f"server ('{converter.binary}' was not found); an administrator can install it "
            "with `make office-deps`."
        )
    with tempfile.TemporaryDirectory(prefix="ragsite-office-") as work:
        folder = Path(work)
        # A fixed ASCII name: the uploaded name may hold anything LibreOffice's URL parsing trips on.
        source = folder / f"source.{suffix}"
        source.write_bytes(data)
        out = folder / "out"
        command = [
            binary,
            "--headless",
            "--invisible",
            "--norestore",
            "--nologo",
            "--nodefault",
            "--nolockcheck",
            f"-env:UserInstallation={(folder / 'profile').as_uri()}",
            "--convert-to",
            _EXPORT_FILTERS[target],
            "--outdir",
            str(out),
        ]
        import_filter = _import_filter(suffix, data)
        if import_filter:
            command.append(f"--infilter={import_filter}")
        command.append(str(source))
        log = _run(command, folder, name, converter.timeout, check_stop)
        result = out / f"source.{target}"
        if not result.is_file() or result.stat().st_size == 0:
            said = _last_error(log)
            detail = f" (LibreOffice said: {said})" if said else ""
            raise ParseError(
                f"LibreOffice could not convert {name} to .{target}{detail}; the file may be "
                "damaged, password-protected or not really this type of document."
            )
        return result.read_bytes()


def _import_filter(suffix: str, data: bytes) -> str | None:
    """The import filter for a legacy file; None for .docx/.xlsx/.pptx (detected reliably)."""
    if data.startswith(RTF_SIGNATURE) and suffix in {"doc", "rtf"}:
        return _IMPORT_FILTERS["rtf"]
    return _IMPORT_FILTERS.get(suffix)


def _run(
    command: list[str],
    folder: Path,
    name: str,
    timeout: float,
    check_stop: Callable[[], None] | None,
) -> str:
    """Run LibreOffice to the end and return what it printed; kill it on timeout or stop."""
    log_path = folder / "soffice.log"
    env = {**os.environ, "HOME": str(folder), "SAL_USE_VCLPLUGIN": "svp"}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=folder,
            env=env,
            start_new_session=True,  # its own process group, so a kill reaches soffice.bin
        )
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    process.wait(timeout=_POLL_SECONDS)
                    break
                except subprocess.TimeoutExpired:
                    pass
                if check_stop is not None:
                    check_stop()
                if time.monotonic() > deadline:
                    raise ParseError(
                        f"LibreOffice took longer than {timeout:g} seconds to convert {name} and "
                        "was stopped; the file may be damaged or very large."
                    )
        except BaseException:
            _kill(process)
            raise
        # oosplash may leave soffice.bin running after it exits; nothing may outlive the call.
        _kill(process)
    return log_path.read_text(errors="replace")


def _kill(process: subprocess.Popen[bytes]) -> None:
    """Kill LibreOffice's whole process group and reap the launcher."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=_KILL_WAIT_SECONDS)


def _last_error(log: str) -> str:
    """LibreOffice's own error line ('source file could not be loaded'), if it printed one."""
    for line in reversed(log.splitlines()):
        line = line.strip()
        if line.startswith("Error:"):
            return line.removeprefix("Error:").strip().rstrip(".")
    return ""
