"""Result files: atomic writes, run and backtest directories, their manifests, validation, charts.

* :mod:`.atomic` — the only writer of result files (temporary file, then rename) and of result
  directories (built hidden beside the target, then moved into place); the one ``--force`` check;
* :mod:`.provenance` — the manifest every output carries (:func:`.provenance.manifest`);
* :mod:`.rundir` — a run's directory: tables, manifest, charts;
* :mod:`.validation` — every check a run directory must pass (:func:`.validation.validate_run`);
* :mod:`.backtestdir` — a backtest's directory;
* :mod:`.charts` — fan and sensitivity charts (matplotlib, imported only when drawing).
"""
