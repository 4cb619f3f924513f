"""One run of each kind: prepare -> fit -> predict -> score -> save (the run-kind table)."""
