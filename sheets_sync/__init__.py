"""Moving data: sample exports, the local fact store and the workbook adapters."""
