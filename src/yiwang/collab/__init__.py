"""一网协同: the staff workbench, 督办 tasks and indicators, 填表报数, 公文流转 and 办会."""
