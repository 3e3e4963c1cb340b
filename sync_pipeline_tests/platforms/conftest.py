"""Client tests run against the real sandbox server: the same fixture as the sandbox tests."""

from sync_pipeline_tests.sandbox.conftest import RunningSandbox, _sandbox_session, sandbox_server

__all__ = ["RunningSandbox", "_sandbox_session", "sandbox_server"]
