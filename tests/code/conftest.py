import pytest

from parley import events


@pytest.fixture
def code_events():
    with events.capture(kinds=(events.CodeExecuted,)) as captured:
        yield captured
