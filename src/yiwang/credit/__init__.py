"""公共信用 and 互联网+监管: credit files, red and black lists with their joint measures (checked inside the
approvals through `cases.hooks.credit_check`), 信用异议 and 信用修复, and 双随机、一公开 random inspections."""
