Attribute VB_Name = "FunnelPlan"
' The Funnel Plan ribbon's one callback (FunnelPlan.xlam, built by build/excel/build_xlam.py).
' Every button of the tab (customUI14.xml) has onAction="FunnelPlan_OnAction" and an action id
' of addin.registry.ACTIONS as its id; addin.excel.dispatcher.run(id) runs it on the active
' workbook and shows the result in a message box. Both routes need xlwings.xlam in XLSTART:
' RunFrozenPython starts `funnelplan.exe run-action <id>` when the standalone build is in
' %LOCALAPPDATA%\funnelplan (docs/standalone.md), else RunPython uses the interpreter that
' `funnelplan addin install` wrote to the xlwings config.
Option Explicit

Public Sub FunnelPlan_OnAction(control As IRibbonControl)
    Dim exe As String
    exe = FrozenExe()
    On Error GoTo NoXlwings
    If exe <> "" Then
        Application.Run "xlwings.xlam!RunFrozenPython", exe, "run-action " & control.Id
    Else
        Application.Run "xlwings.xlam!RunPython", _
            "import addin.excel.dispatcher as d; d.run('" & control.Id & "')"
    End If
    Exit Sub
NoXlwings:
    MsgBox "Funnel Plan needs the xlwings add-in (xlwings.xlam) to run its buttons. " & _
        "Install it (`xlwings addin install`, or copy it from the funnelplan folder into " & _
        "XLSTART), restart Excel and try again." & _
        vbNewLine & vbNewLine & "(" & Err.Description & ")", vbExclamation, "Funnel Plan"
End Sub

' The standalone build's program if it is there, else "".
Private Function FrozenExe() As String
    Dim exePath As String, found As String
    If Environ("LOCALAPPDATA") = "" Then Exit Function
    exePath = Environ("LOCALAPPDATA") & "\funnelplan\funnelplan.exe"
    On Error Resume Next  ' Dir raises for an unreachable path
    found = Dir(exePath)
    On Error GoTo 0
    If found <> "" Then FrozenExe = exePath
End Function
