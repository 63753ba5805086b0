"""The spreadsheet intake engine: files → archive → checks → raw_intake (docs/intake.md)."""
