"""Entry points and their importable helpers (``tools.analysis``,
``tools.benchmarks``); scripts run as ``python tools/...`` put the
repository root on ``sys.path`` to import them."""
