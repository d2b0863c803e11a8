Attribute VB_Name = "FunnelPlan"
' The Funnel Plan ribbon's one callback (FunnelPlan.xlam, built by build/excel/build_xlam.py).
'
' Every button of the "Funnel Plan" tab (customUI14.xml) has onAction="FunnelPlan_OnAction"
' and its id is the action id of addin.registry.ACTIONS (sync_facts, refresh_runrate, ...).
' Python does the work: addin.excel.dispatcher.run(id) runs the action on the active workbook
' and shows a message box with a readable sentence when it fails.
'
' RunPython comes from the xlwings add-in (xlwings.xlam in XLSTART: `xlwings addin install`);
' its interpreter is the one `funnelplan addin install` wrote to the xlwings config.
Option Explicit

Public Sub FunnelPlan_OnAction(control As IRibbonControl)
    Dim command As String
    command = "import addin.excel.dispatcher as d; d.run('" & control.Id & "')"
    On Error GoTo NoXlwings
    Application.Run "xlwings.xlam!RunPython", command
    Exit Sub
NoXlwings:
    MsgBox "Funnel Plan needs the xlwings add-in (xlwings.xlam) to run its buttons. " & _
        "Install it with `xlwings addin install`, restart Excel and try again." & _
        vbNewLine & vbNewLine & "(" & Err.Description & ")", vbExclamation, "Funnel Plan"
End Sub
