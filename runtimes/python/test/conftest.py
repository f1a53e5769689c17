import os
import shutil
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Runtime, write_code  # noqa: E402


@pytest.fixture
def runtime_factory():
    """runtime_factory({files}, handler=..., ...) -> a started Runtime, closed after the test."""
    started = []

    def make(files, **kwargs):
        code_dir = write_code(files)
        rt = Runtime(code_dir, **kwargs)
        started.append(rt)
        return rt

    yield make
    for rt in started:
        rt.close()
        shutil.rmtree(rt.code_dir, ignore_errors=True)
        shutil.rmtree(rt.scratch, ignore_errors=True)
