"""Evaluation: score forecasts against what was reported later, backtest models, choose one.

* :mod:`.scoring` — proper scores of simulated paths against later reports;
* :mod:`.backtest` — rolling-origin backtests and their summaries;
* :mod:`.selection` — the model choice of ``kind = "auto"``.
"""
