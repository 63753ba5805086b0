"""How a commune sends its reports from its own PC: blank templates made from the form
contracts (`ioc template`) and the upload page "Nộp báo cáo" (`ioc upload-page`, started by
`make up` / `make demo`). See docs/intake.md."""
