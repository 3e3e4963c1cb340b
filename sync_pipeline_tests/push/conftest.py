from sync_pipeline_tests.platforms.tiktok_fixtures import image_host  # noqa: F401 - fixture: real PNG host
from sync_pipeline_tests.sandbox.conftest import _sandbox_session, sandbox_server  # noqa: F401 - fixtures
