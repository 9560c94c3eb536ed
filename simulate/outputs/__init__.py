"""Result files: atomic writes, run and backtest directories, their validation and charts.

* :mod:`.atomic` — the only writer of result files (temporary file, then rename);
* :mod:`.rundir` — a run's directory: tables, manifest, charts, validation;
* :mod:`.backtestdir` — a backtest's directory;
* :mod:`.charts` — fan and sensitivity charts (matplotlib, imported only when drawing).
"""
