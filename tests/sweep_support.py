"""What the sweep tests share (no tests here): a scenario file's data, model and three
scenarios, to which the tests add a [run] table and sweeps."""

SCENARIOS = """\
[data]
source = "example"
series = ["personnel"]
[model]
kind = "analog"
[[scenario]]
name = "status-quo"
reference = true
[[scenario]]
name = "escalation"
[[scenario.adjust]]
type = "multiply"
factor = 1.2
start = 2026-02-01
[[scenario]]
name = "ceasefire"
[[scenario.adjust]]
type = "ceasefire"
start = 2026-03-01
residual = 0.1
"""
