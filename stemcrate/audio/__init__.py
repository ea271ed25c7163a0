"""Pure audio functions and model engines: no Prefect, no storage, testable alone."""
