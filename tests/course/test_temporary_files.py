"""The test suite cleans up after itself: what it writes to the temporary folder goes into a
session folder (the root conftest.py) that is removed when the session ends, AutoGraph's
``__autograph_generated_file*.py`` files included."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

PROBE = "NST_TEMPORARY_FILES_PROBE"


def test_the_session_writes_into_its_own_temporary_folder():
    session = Path(tempfile.gettempdir())
    assert session.name.startswith("nst-test-session-")
    assert os.environ["TMPDIR"] == str(session)
    assert Path(os.environ["NST_NOTEBOOK_OUTPUT_DIR"]).parent == session


@pytest.mark.skipif(os.environ.get(PROBE) != "1", reason="run by the test below, in a session")
def test_probe_makes_an_autograph_file():
    import tensorflow as tf

    @tf.function
    def branchy(x):
        if x > 0:  # Python control flow on a tensor: AutoGraph converts it into a file
            return x * 2
        return -x

    assert float(branchy(tf.constant(3.0))) == 6.0
    made = list(Path(tempfile.gettempdir()).glob("__autograph_generated_file*.py"))
    assert made, "AutoGraph wrote no file: this probe no longer tests the clean-up"


def test_a_session_leaves_nothing_in_the_temporary_folder(tmp_path):
    outer = tmp_path / "outer"
    outer.mkdir()
    environment = {**os.environ, "TMPDIR": str(outer), PROBE: "1"}
    environment.pop("PYTEST_CURRENT_TEST", None)
    environment.pop("NST_NOTEBOOK_OUTPUT_DIR", None)
    environment.pop("NST_KEEP_TEST_TMP", None)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"{Path(__file__).relative_to(ROOT)}::test_probe_makes_an_autograph_file",
        ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "1 passed" in run.stdout, run.stdout + run.stderr
    assert sorted(path.name for path in outer.iterdir()) == []
