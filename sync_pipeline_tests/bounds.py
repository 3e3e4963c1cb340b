"""Bounds on the tests' waits. Each one only stops a hang and is never a timing assertion: a loaded
2-core machine (CI beside other work, a CPU burner) can be 20x slower than a quiet one, so each bound
sits far above any honest duration, and the order of events is made certain by other means (held
sandbox answers, events, barriers)."""

from __future__ import annotations

CALL_BOUND_S = 300.0  # one HTTP call from a test to a server on this machine (sandbox, webserver, media host)
