"""The Excel add-in as built here: FunnelPlan.xlam (ribbon XML, VBA read back with olevba) and
the generated xlwings UDF module, plus `funnelplan addin build/install`.

Only real Excel can show the tab, compile the VBA and call Python; these tests check everything
that can be checked without it (see build/excel/build_xlam.py)."""

from __future__ import annotations

import ast
import importlib.util
import io
import re
import sys
import types
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import require

from addin.cli.main import main
from addin.excel.commands import addin_group, load_builder, merge_config, run_action_cmd
from addin.excel.ribbon import ribbon_xml
from addin.excel.udfs import UDF_MODULE, module_source
from addin.registry import ACTIONS, FUNCTIONS

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # oletools' pyparsing use

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ROOT / "build" / "excel"
CUI = "{http://schemas.microsoft.com/office/2009/07/customui}"
REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
CT_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"


def _have(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


@pytest.fixture(scope="module")
def lxml_etree() -> Any:
    require("lxml", _have("lxml"), "pip install lxml")
    from lxml import etree

    return etree


@pytest.fixture(scope="module")
def xlam(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require("ms-ovba", _have("ms_ovba"), "pip install ms-ovba")
    path: Path = load_builder().build_xlam(tmp_path_factory.mktemp("xlam"))
    return path


@pytest.fixture(scope="module")
def parts(xlam: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(xlam) as zf:
        assert zf.testzip() is None
        return {name: zf.read(name) for name in zf.namelist()}


@pytest.fixture(scope="module")
def vba_modules(parts: dict[str, bytes]) -> dict[str, str]:
    """Module name -> source text, read back from the built vbaProject.bin by olevba."""
    require("oletools", _have("oletools"), "pip install oletools")
    from oletools.olevba import VBA_Parser

    parser = VBA_Parser("vbaProject.bin", data=parts["xl/vbaProject.bin"])
    try:
        assert parser.detect_vba_macros()
        return {
            stream.split("/")[-1]: code.replace("\r\n", "\n")
            for _, stream, _, code in parser.extract_all_macros()
        }
    finally:
        parser.close()


def _committed_bas() -> str:
    return (SOURCES / "FunnelPlan.bas").read_text(encoding="cp1252").replace("\r\n", "\n")


def _subs(vba: str) -> dict[str, str]:
    """Sub name -> its parameter list."""
    return {
        m.group(1): m.group(2)
        for m in re.finditer(r"^(?:Public |Private )?Sub (\w+)\(([^)]*)\)", vba, re.MULTILINE)
    }


# ----------------------------------------------------------------------------- the package


def test_package_parts_are_well_formed_and_typed(parts: dict[str, bytes], lxml_etree: Any) -> None:
    for name, data in parts.items():
        if name.endswith((".xml", ".rels")):
            lxml_etree.fromstring(data)  # raises if not well formed
    types_ = lxml_etree.fromstring(parts["[Content_Types].xml"])
    overrides = {o.get("PartName"): o.get("ContentType") for o in types_.iter(f"{CT_NS}Override")}
    defaults = {d.get("Extension"): d.get("ContentType") for d in types_.iter(f"{CT_NS}Default")}
    # an add-in workbook (.xlam), macro-enabled
    assert overrides["/xl/workbook.xml"] == "application/vnd.ms-excel.addin.macroEnabled.main+xml"
    assert defaults["bin"] == "application/vnd.ms-office.vbaProject"
    for name in parts:
        ext = name.rsplit(".", 1)[-1]
        assert f"/{name}" in overrides or ext in defaults, f"{name} has no content type"


def _targets(rels: bytes, etree: Any) -> dict[str, str]:
    return {
        r.get("Type"): r.get("Target") for r in etree.fromstring(rels).iter(f"{REL_NS}Relationship")
    }


def test_relationships_reach_the_workbook_vba_and_custom_ui(
    parts: dict[str, bytes], lxml_etree: Any
) -> None:
    root = _targets(parts["_rels/.rels"], lxml_etree)
    ui14 = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
    assert root[ui14] == "customUI/customUI14.xml"
    office = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
    assert root[office] == "xl/workbook.xml"
    book = _targets(parts["xl/_rels/workbook.xml.rels"], lxml_etree)
    assert book["http://schemas.microsoft.com/office/2006/relationships/vbaProject"] == (
        "vbaProject.bin"
    )
    for target in [*root.values()] + [f"xl/{t}" for t in book.values()]:
        assert target in parts, f"relationship target {target} missing"


def test_custom_ui_is_the_committed_source_and_valid(
    parts: dict[str, bytes], lxml_etree: Any
) -> None:
    committed = (SOURCES / "customUI14.xml").read_bytes()
    assert parts["customUI/customUI14.xml"] == committed
    # A reduced customUI14 schema (the official XSD is not available offline; see its header).
    schema = lxml_etree.XMLSchema(lxml_etree.parse(str(SOURCES / "customUI14.reduced.xsd")))
    doc = lxml_etree.fromstring(committed)
    assert schema.validate(doc), schema.error_log
    tab = doc.find(f"{CUI}ribbon/{CUI}tabs/{CUI}tab")
    assert tab is not None and tab.get("label") == "Funnel Plan"


def test_reduced_schema_rejects_what_excel_rejects(lxml_etree: Any) -> None:
    schema = lxml_etree.XMLSchema(lxml_etree.parse(str(SOURCES / "customUI14.reduced.xsd")))
    ok = (SOURCES / "customUI14.xml").read_text(encoding="utf-8")
    bad = [
        ok.replace('id="apply_split"', 'id="sync_facts"'),  # duplicate id
        ok.replace('size="large"', 'size="huge"', 1),  # not a size
        ok.replace("onAction=", "onClick=", 1),  # not an attribute
        ok.replace('label="Funnel Plan"', 'label=""', 1),  # empty label
    ]
    for text in bad:
        assert not schema.validate(lxml_etree.fromstring(text.encode()))


def test_committed_ribbon_is_generated_from_the_registry() -> None:
    committed = (SOURCES / "customUI14.xml").read_text(encoding="utf-8")
    assert committed == ribbon_xml(), "stale: python -m addin.excel.ribbon --write"


def test_one_button_per_registry_action(parts: dict[str, bytes], lxml_etree: Any) -> None:
    doc = lxml_etree.fromstring(parts["customUI/customUI14.xml"])
    buttons = list(doc.iter(f"{CUI}button"))
    assert [b.get("id") for b in buttons] == list(ACTIONS)
    for b in buttons:
        assert b.get("label") == ACTIONS[b.get("id")].label
        assert b.get("onAction") == "FunnelPlan_OnAction"


def test_every_on_action_is_a_vba_sub(
    parts: dict[str, bytes], vba_modules: dict[str, str], lxml_etree: Any
) -> None:
    doc = lxml_etree.fromstring(parts["customUI/customUI14.xml"])
    callbacks = {e.get("onAction") for e in doc.iter() if e.get("onAction")}
    subs: dict[str, str] = {}
    for code in vba_modules.values():
        subs.update(_subs(code))
    for callback in callbacks:
        name = callback.split(".")[-1]  # "Module.Sub" or "Sub"
        assert name in subs, f"onAction {callback} has no VBA Sub"
        assert re.fullmatch(r"\w+ As IRibbonControl", subs[name].strip()), subs[name]


def test_vba_read_back_equals_the_committed_module(vba_modules: dict[str, str]) -> None:
    assert vba_modules["FunnelPlan"] == _committed_bas()
    code = vba_modules["FunnelPlan"]
    # the callback passes the button id to the one Python dispatcher
    assert "RunPython" in code and "addin.excel.dispatcher" in code and "control.Id" in code


def test_vba_callback_has_the_frozen_and_the_python_route(vba_modules: dict[str, str]) -> None:
    """One Sub (the only onAction target) chooses: funnelplan.exe in %LOCALAPPDATA%\\funnelplan
    through RunFrozenPython (executable and arguments as its two parameters), else RunPython."""
    code = vba_modules["FunnelPlan"]
    assert list(_subs(code)) == ["FunnelPlan_OnAction"]
    assert 'Environ("LOCALAPPDATA") & "\\funnelplan\\funnelplan.exe"' in code
    sub = code[code.index("Sub FunnelPlan_OnAction") : code.index("End Sub")]
    frozen = re.search(
        r'^ *If (\w+) <> "" Then\n'
        r' *Application\.Run "xlwings\.xlam!RunFrozenPython", \1, "run-action " & control\.Id\n'
        r" *Else\n"
        r' *Application\.Run "xlwings\.xlam!RunPython", _\n'
        r""" *"import addin\.excel\.dispatcher as d; d\.run\('" & control\.Id & "'\)"\n"""
        r" *End If$",
        sub,
        re.MULTILINE,
    )
    assert frozen, sub
    assert re.search(rf"^ *{frozen.group(1)} = FrozenExe\(\)$", sub, re.MULTILINE)
    assert re.search(r"^Private Function FrozenExe\(\) As String$", code, re.MULTILINE)


def test_vba_project_matches_the_workbook(
    parts: dict[str, bytes], vba_modules: dict[str, str]
) -> None:
    import olefile

    ole = olefile.OleFileIO(io.BytesIO(parts["xl/vbaProject.bin"]))
    project = ole.openstream("PROJECT").read().decode("cp1252")
    ole.close()
    assert "Module=FunnelPlan" in project
    assert "Document=ThisWorkbook/" in project and "Document=Sheet1/" in project
    # the document modules are the workbook's and the sheet's code names
    assert b'codeName="ThisWorkbook"' in parts["xl/workbook.xml"]
    assert b'codeName="Sheet1"' in parts["xl/worksheets/sheet1.xml"]
    assert set(vba_modules) == {"ThisWorkbook", "Sheet1", "FunnelPlan"}


def test_build_is_reproducible(xlam: Path, tmp_path: Path) -> None:
    again = load_builder().build_xlam(tmp_path)
    assert again.read_bytes() == xlam.read_bytes()


# ----------------------------------------------------------------------------- UDF module


def test_udf_module_compiles_and_declares_every_function() -> None:
    source = module_source()
    compile(source, f"{UDF_MODULE}.py", "exec")
    tree = ast.parse(source)
    defs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert list(defs) == list(FUNCTIONS)
    for name, fn in FUNCTIONS.items():
        node = defs[name]
        assert [a.arg for a in node.args.args] == [a.name for a in fn.args]
        assert ast.get_docstring(node) == " ".join(fn.help.split())
        decorators = [ast.unparse(d) for d in node.decorator_list]
        assert decorators[0].startswith("xw.func(")
        for arg in fn.args:
            assert any(d.startswith(f"xw.arg({arg.name!r}") for d in decorators)


@pytest.fixture
def xlwings_udfs(monkeypatch: pytest.MonkeyPatch) -> Any:
    """xlwings' own Windows UDF machinery (`xlwings.udfs`), importable here with its win32
    modules stubbed: it records the decorators' metadata and writes the VBA wrappers that
    "Import Functions" puts in a workbook."""
    require("xlwings", _have("xlwings"), "pip install xlwings")
    pythoncom = types.ModuleType("pythoncom")
    pythoncom.CoInitialize = lambda: None  # type: ignore[attr-defined]
    client = types.ModuleType("win32com.client")
    client.Dispatch = None  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pythoncom", pythoncom)
    monkeypatch.setitem(sys.modules, "pywintypes", types.ModuleType("pywintypes"))
    monkeypatch.setitem(sys.modules, "win32com", types.ModuleType("win32com"))
    monkeypatch.setitem(sys.modules, "win32com.client", client)
    monkeypatch.delitem(sys.modules, "xlwings.udfs", raising=False)
    import xlwings.udfs

    monkeypatch.delitem(sys.modules, "xlwings.udfs")
    return xlwings.udfs


def test_udf_module_through_xlwings(xlwings_udfs: Any) -> None:
    xw = types.SimpleNamespace(func=xlwings_udfs.xlfunc, arg=xlwings_udfs.xlarg)
    module = types.ModuleType(UDF_MODULE)
    module.__dict__["xw"] = xw
    source = module_source().replace("import xlwings as xw\n", "")
    exec(compile(source, f"{UDF_MODULE}.py", "exec"), module.__dict__)
    for name, fn in FUNCTIONS.items():
        meta = getattr(module, name).__xlfunc__
        assert meta["category"] == "Funnel Plan"
        assert [a["name"] for a in meta["args"]] == [a.name for a in fn.args]
        for spec, arg in zip(meta["args"], fn.args, strict=True):
            ranged = arg.kind in ("numbers", "dates", "table")
            assert spec["options"].get("ndim") == (2 if ranged else None)
            assert spec["doc"]
    # the VBA that "Import Functions" writes: one Function per registry function
    out = io.StringIO()
    xlwings_udfs.generate_vba_wrapper(
        UDF_MODULE, module, out, types.SimpleNamespace(Name="Plan.xlsm")
    )
    vba = out.getvalue()
    for name in FUNCTIONS:
        assert re.search(rf"^Function {name}\(", vba, re.MULTILINE), name
    assert re.search(r"^Function RUNRATE\(values, as_of, Optional window", vba, re.MULTILINE)
    # a column result comes back as rows (it spills down), an error as its text
    assert module.CR([[1], [2]], [[10], [0]]) == [[0.1], ["#DIV/0!"]]


# ----------------------------------------------------------------------------- commands


def test_addin_build_command(tmp_path: Path) -> None:
    require("ms-ovba", _have("ms_ovba"), "pip install ms-ovba")
    result = CliRunner().invoke(addin_group, ["build", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "FunnelPlan.xlam").is_file()
    assert zipfile.is_zipfile(tmp_path / "FunnelPlan.xlam")


def test_addin_install_into_a_folder(tmp_path: Path) -> None:
    require("ms-ovba", _have("ms_ovba"), "pip install ms-ovba")
    (tmp_path / "xlwings.conf").write_text(
        '"UDF MODULES","other_udfs"\n"LICENSE_KEY","keep-me"\n', encoding="utf-8"
    )
    result = CliRunner().invoke(
        addin_group, ["install", "--dir", str(tmp_path), "--interpreter", r"C:\Py\python.exe"]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "FunnelPlan.xlam").is_file()
    assert (tmp_path / f"{UDF_MODULE}.py").read_text(encoding="utf-8") == module_source()
    config = (tmp_path / "xlwings.conf").read_text(encoding="utf-8").splitlines()
    assert '"UDF MODULES","other_udfs;funnelplan_udfs"' in config
    assert '"LICENSE_KEY","keep-me"' in config
    assert '"INTERPRETER_WIN","C:\\Py\\python.exe"' in config
    assert any(line.startswith('"PYTHONPATH",') for line in config)
    assert "XLSTART" in result.output


def test_addin_install_in_the_frozen_build_writes_the_add_ins_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`sys.frozen` (PyInstaller's flag) is patched: the real frozen binary is checked by
    scripts/build-frozen.sh, not here."""
    require("ms-ovba", _have("ms_ovba"), "pip install ms-ovba")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    result = CliRunner().invoke(addin_group, ["install", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "FunnelPlan.xlam").is_file()
    # no INTERPRETER_WIN = sys.executable (funnelplan.exe is no Python), no formulas module
    assert not (tmp_path / "xlwings.conf").exists()
    assert not (tmp_path / f"{UDF_MODULE}.py").exists()
    assert "formulas" in result.output and "real Python" in result.output
    assert "function server" in result.output and "funnelplan.exe" in result.output
    if _have("xlwings"):  # the shipped xlwings.xlam is copied beside it
        assert (tmp_path / "xlwings.xlam").is_file()
        assert "xlwings add-in:" in result.output


def test_addin_install_in_the_frozen_build_with_an_interpreter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`sys.frozen` patched, as above: a Python named with --interpreter gets the full install."""
    require("ms-ovba", _have("ms_ovba"), "pip install ms-ovba")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    result = CliRunner().invoke(
        addin_group, ["install", "--dir", str(tmp_path), "--interpreter", r"C:\Py\python.exe"]
    )
    assert result.exit_code == 0, result.output
    config = (tmp_path / "xlwings.conf").read_text(encoding="utf-8").splitlines()
    assert '"INTERPRETER_WIN","C:\\Py\\python.exe"' in config


def test_run_action_unknown_id_exits_2_naming_the_actions() -> None:
    result = CliRunner().invoke(main, ["run-action", "no_such_button", "--wb=Plan.xlsx"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "no_such_button" in lines[0]
    for action_id in ACTIONS:
        assert action_id in lines[0]


def test_run_action_reaches_the_dispatcher_ignoring_xlwings_arguments(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`addin.excel.dispatcher.run` is replaced by a recorder: the real one needs a running
    Excel (xlwings' Book.caller() over COM), which cannot run here. What it does with the
    workbook is tested through `run_on` in test_dispatcher.py."""
    import addin.excel.dispatcher as dispatcher

    calls: list[str] = []
    monkeypatch.setattr(dispatcher, "run", calls.append)
    action_id = next(iter(ACTIONS))
    # what xlwings' RunFrozenPython appends after "run-action <id>"
    xlwings_args = [
        "--wb=plan-2026-11.xlsx",
        "--from_xl=1",
        r"--app=C:\Program Files\Microsoft Office\root\Office16\EXCEL.EXE",
        "--hwnd=132456",
    ]
    result = CliRunner().invoke(main, ["run-action", action_id, *xlwings_args])
    assert result.exit_code == 0, result.output
    assert calls == [action_id]
    result = CliRunner().invoke(run_action_cmd, [action_id])  # no extra arguments
    assert result.exit_code == 0, result.output
    assert calls == [action_id, action_id]


def test_install_without_dir_off_windows_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    result = CliRunner().invoke(addin_group, ["install"])
    assert result.exit_code == 2
    assert "--dir" in result.output


def test_merge_config_is_idempotent() -> None:
    once = merge_config("", {"UDF MODULES": "funnelplan_udfs", "INTERPRETER_WIN": "python"})
    twice = merge_config(once, {"UDF MODULES": "funnelplan_udfs", "INTERPRETER_WIN": "python"})
    assert once == twice == '"UDF MODULES","funnelplan_udfs"\n"INTERPRETER_WIN","python"\n'


def test_a_long_module_with_long_repeated_runs_reads_back_exactly() -> None:
    """ms-ovba-compression 1.0.1 does not cap a copy token's length (MS-OVBA 2.4.1.3.19.1), so
    a repeat longer than a token can hold used to corrupt the module past ~1 KB; the builder
    uses the spec's CopyToken Help."""
    require("ms-ovba", _have("ms_ovba"), "pip install ms-ovba")
    require("oletools", _have("oletools"), "pip install oletools")
    from oletools.olevba import VBA_Parser

    comment = "' " + "=" * 90 + "\n"
    bas = (
        'Attribute VB_Name = "FunnelPlan"\n'
        + comment * 40
        + "Public Sub FunnelPlan_OnAction(control As IRibbonControl)\n"
        + '    MsgBox "'
        + "x" * 200
        + '"\n'
        + "End Sub\n"
    )
    data = load_builder().vba_project_bin(bas)
    parser = VBA_Parser("vbaProject.bin", data=data)
    try:
        code = {
            stream.split("/")[-1]: text.replace("\r\n", "\n")
            for _, stream, _, text in parser.extract_all_macros()
        }
    finally:
        parser.close()
    assert code["FunnelPlan"] == bas
