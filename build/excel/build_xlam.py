"""Assemble FunnelPlan.xlam - the Excel add-in with the "Funnel Plan" ribbon tab - without Excel.

    python build/excel/build_xlam.py --out DIR        (or: funnelplan addin build --out DIR)

Sources, committed as text beside this file:

- ``customUI14.xml``: the ribbon (tab "Funnel Plan", one button per registry action, every
  button's onAction = ``FunnelPlan_OnAction``), generated from the registry by
  ``python -m addin.excel.ribbon --write``;
- ``FunnelPlan.bas``: the VBA module with that callback (it calls xlwings' ``RunPython`` with
  the button's id).

The .xlam is an OOXML package (a zip): ``[Content_Types].xml`` (the workbook part typed as a
macro-enabled *add-in*, ``application/vnd.ms-excel.addin.macroEnabled.main+xml``), ``_rels/.rels``
(the workbook and the customUI14 part, relationship type
``http://schemas.microsoft.com/office/2007/relationships/ui/extensibility``), ``xl/workbook.xml``
(code name ``ThisWorkbook``) with one empty sheet (code name ``Sheet1``), a minimal
``xl/styles.xml``, ``xl/vbaProject.bin`` and ``customUI/customUI14.xml``.

``xl/vbaProject.bin`` (the MS-OVBA compound file: PROJECT, VBA/dir, VBA/_VBA_PROJECT and one
compressed stream per module) is written by PyPI's ``ms-ovba`` (MIT; it uses ``ms-cfb`` for the
compound file and ``ms-ovba-compression`` for MS-OVBA 2.4.1 compression). Its _VBA_PROJECT stream
has no performance cache (version 0xFFFF), as MS-OVBA prescribes for writers, so Excel compiles
the module from its source when the add-in is first opened. The project references stdole and the
Office object library (``IRibbonControl``); it holds the document modules ``ThisWorkbook`` and
``Sheet1`` and the standard module of ``FunnelPlan.bas``. The tests read it back with oletools'
olevba. The build is reproducible: the package's timestamps are fixed and the random bytes of the
PROJECT stream's CMG/DPB/GC fields come from a fixed seed.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import random
import re
import sys
import tempfile
import uuid
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CUSTOM_UI = "customUI14.xml"
VBA_MODULE = "FunnelPlan.bas"
XLAM_NAME = "FunnelPlan.xlam"
ON_ACTION = "FunnelPlan_OnAction"
PROJECT_ID = "{6F1B7C52-3C1E-4E2B-9A51-2D7A0F3B9C11}"
"""The VBA project's ID (any fixed GUID; Excel keeps whatever the file says)."""

CUSTOM_UI_REL = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
VBA_PROJECT_REL = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
OFFICE_DOC_REL = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
)
WORKSHEET_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
STYLES_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles"
ADDIN_CONTENT_TYPE = "application/vnd.ms-excel.addin.macroEnabled.main+xml"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)

_DOC_MODULE = """VERSION 1.0 CLASS
BEGIN
  MultiUse = -1  'True
END
Attribute VB_Name = "{name}"
Attribute VB_GlobalNameSpace = False
Attribute VB_Creatable = False
Attribute VB_PredeclaredId = True
Attribute VB_Exposed = True
"""
"""A document module as Excel exports it (ms-ovba drops the four header lines)."""

_DOC_MODULES = {
    "ThisWorkbook": "0002081900000000C000000000000046",  # Excel's Workbook class
    "Sheet1": "0002082000000000C000000000000046",  # Excel's Worksheet class
}

CONTENT_TYPES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>
<Override PartName="/xl/workbook.xml" ContentType="{ADDIN_CONTENT_TYPE}"/>
<Override PartName="/xl/worksheets/sheet1.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/styles.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>
</Types>
"""

ROOT_RELS = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="{OFFICE_DOC_REL}" Target="xl/workbook.xml"/>
<Relationship Id="rId2" Type="{CUSTOM_UI_REL}" Target="customUI/customUI14.xml"/>
</Relationships>
"""

WORKBOOK = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" \
xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<workbookPr codeName="ThisWorkbook"/>
<bookViews><workbookView visibility="hidden"/></bookViews>
<sheets><sheet name="FunnelPlan" sheetId="1" r:id="rId1"/></sheets>
</workbook>
"""

WORKBOOK_RELS = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="{WORKSHEET_REL}" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="{STYLES_REL}" Target="styles.xml"/>
<Relationship Id="rId3" Type="{VBA_PROJECT_REL}" Target="vbaProject.bin"/>
</Relationships>
"""

SHEET = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<sheetPr codeName="Sheet1"/>
<sheetData/>
</worksheet>
"""

STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>
<fills count="2"><fill><patternFill patternType="none"/></fill>\
<fill><patternFill patternType="gray125"/></fill></fills>
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
</styleSheet>
"""


class BuildError(Exception):
    """The add-in's sources are missing or inconsistent."""


def module_name(bas_text: str) -> str:
    """The module's name from its ``Attribute VB_Name = "..."`` line."""
    match = re.search(r'^Attribute VB_Name = "([A-Za-z][A-Za-z0-9_]*)"', bas_text, re.MULTILINE)
    if match is None:
        raise BuildError('the VBA module has no `Attribute VB_Name = "..."` line')
    return match.group(1)


def vba_project_bin(bas_text: str, seed: int = 0) -> bytes:
    """The bytes of ``vbaProject.bin`` holding the standard module `bas_text` (its text as
    committed; line ends become CRLF, the text must be cp1252) beside the document modules
    ``ThisWorkbook`` and ``Sheet1``."""
    from ms_ovba.Models.Entities.doc_module import DocModule
    from ms_ovba.Models.Entities.reference import Reference
    from ms_ovba.Models.Entities.reference_registered import ReferenceRegistered
    from ms_ovba.Models.Entities.std_module import StdModule
    from ms_ovba.Models.Fields.libid_reference import LibidReference
    from ms_ovba.vbaProject import VbaProject
    from ms_ovba.Views.project_ole_file import ProjectOleFile

    name = module_name(bas_text)
    try:
        bas_text.encode("cp1252")
    except UnicodeEncodeError as exc:
        raise BuildError(f"the VBA module must be cp1252 text: {exc}") from exc
    from ms_ovba_compression.ms_ovba import MsOvba

    state = random.getstate()
    buggy = MsOvba.__dict__["copytoken_help"]
    MsOvba.copytoken_help = staticmethod(_copytoken_help)  # type: ignore[method-assign]
    # ms-ovba writes its intermediate files into the working directory: work in a temp one.
    with tempfile.TemporaryDirectory(prefix="funnelplan-vba-") as tmp, contextlib.chdir(tmp):
        random.seed(seed)  # the CMG/DPB/GC obfuscation bytes: reproducible builds
        try:
            project = VbaProject()
            project.project_id = PROJECT_ID
            for doc, guid in _DOC_MODULES.items():
                Path(f"{doc}.cls").write_text(_DOC_MODULE.format(name=doc), encoding="cp1252")
                module = DocModule(doc)
                module.add_file(f"{doc}.cls")
                module.add_guid(uuid.UUID(guid))
                module.normalize_file()
                project.add_module(module)
            Path(f"{name}.bas").write_text(
                bas_text.replace("\r\n", "\n"), encoding="cp1252", newline="\n"
            )
            code = StdModule(name)
            code.add_file(f"{name}.bas")
            code.normalize_file()
            project.add_module(code)
            stdole = LibidReference(
                uuid.UUID("0002043000000000C000000000000046"),
                "2.0",
                "0",
                "C:\\Windows\\System32\\stdole2.tlb",
                "OLE Automation",
            )
            office = LibidReference(
                uuid.UUID("2DF8D04C5BFA101BBDE500AA0044DE52"),
                "2.0",
                "0",
                "C:\\Program Files\\Common Files\\Microsoft Shared\\OFFICE16\\MSO.DLL",
                "Microsoft Office 16.0 Object Library",
            )
            project.add_reference(Reference(ReferenceRegistered(stdole), "stdole"))
            project.add_reference(Reference(ReferenceRegistered(office), "Office"))
            ProjectOleFile.write_file(project)
            return Path("vbaProject.bin").read_bytes()
        finally:
            random.setstate(state)
            MsOvba.copytoken_help = buggy  # type: ignore[method-assign]


def _copytoken_help(difference: int) -> dict[str, int]:
    """MS-OVBA 2.4.1.3.19.1 CopyToken Help, as the spec has it. ms-ovba-compression 1.0.1
    computes ``MaximumLength = 0xFFFF << bitCount + 3`` instead of ``(0xFFFF >> bitCount) + 3``,
    so a repeated run longer than a copy token can hold corrupts the compressed module."""
    bit_count = max((difference - 1).bit_length(), 4)
    length_mask = 0xFFFF >> bit_count
    return {
        "lengthMask": length_mask,
        "offsetMask": ~length_mask & 0xFFFF,
        "bitCount": bit_count,
        "maxLength": length_mask + 3,
    }


def xlam_bytes(custom_ui: str, bas_text: str) -> bytes:
    """The .xlam package (zip bytes) from the ribbon XML and the VBA module text."""
    if ON_ACTION not in bas_text:
        raise BuildError(f"the VBA module has no `{ON_ACTION}` procedure")
    parts: list[tuple[str, bytes]] = [
        ("[Content_Types].xml", CONTENT_TYPES.encode()),
        ("_rels/.rels", ROOT_RELS.encode()),
        ("xl/workbook.xml", WORKBOOK.encode()),
        ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS.encode()),
        ("xl/worksheets/sheet1.xml", SHEET.encode()),
        ("xl/styles.xml", STYLES.encode()),
        ("xl/vbaProject.bin", vba_project_bin(bas_text)),
        ("customUI/customUI14.xml", custom_ui.encode("utf-8")),
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return buffer.getvalue()


def read_sources(source_dir: Path = HERE) -> tuple[str, str]:
    """The committed ribbon XML and VBA module text."""
    try:
        custom_ui = (source_dir / CUSTOM_UI).read_text(encoding="utf-8")
        bas_text = (source_dir / VBA_MODULE).read_text(encoding="cp1252")
    except OSError as exc:
        raise BuildError(f"cannot read the add-in sources in {source_dir}: {exc}") from exc
    return custom_ui, bas_text


def build_xlam(out_dir: Path, source_dir: Path = HERE, name: str = XLAM_NAME) -> Path:
    """Write the add-in to ``out_dir/name`` (via a temp file and rename) and return its path."""
    custom_ui, bas_text = read_sources(source_dir)
    data = xlam_bytes(custom_ui, bas_text)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / name
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build FunnelPlan.xlam (the Excel ribbon).")
    parser.add_argument("--out", type=Path, required=True, help="folder to write the .xlam to")
    args = parser.parse_args(argv)
    try:
        path = build_xlam(args.out)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
