"""bench/pyspy.py: py-spy's collapsed stacks read and summed by function and by package."""

from __future__ import annotations

from tests.unit.test_bench_load import load

pyspy = load.pyspy  # bench/load.py imports it from its own folder

ROOT = "run (padang112/service.py:108);BaseEventLoop._run_once (asyncio/base_events.py:1922)"
COLLAPSED = [
    f"{ROOT};EventWriter._apply (padang112/storage/repository.py:170);tail (padang112/storage/chain.py:41);"
    "Session.execute (sqlalchemy/orm/session.py:2351) 30\n",
    f"{ROOT};AriListener._read (padang112/telephony/ari.py:177);JSONDecoder.raw_decode (json/decoder.py:353) 10\n",
    f"{ROOT};Controller._take (padang112/controller.py:266) 10\n",
    "a line that is not a stack\n",
    f"{ROOT};Controller._take (padang112/controller.py:270) 50\n",
]


def test_collapsed_stacks_are_read_and_bad_lines_skipped() -> None:
    stacks = pyspy.parse_collapsed(COLLAPSED)
    assert sum(stacks.values()) == 100 and len(stacks) == 4


def test_the_summary_gives_shares_by_package_and_by_function_across_lines() -> None:
    text = pyspy.summary(pyspy.parse_collapsed(COLLAPSED))
    first, *functions = text.splitlines()
    assert first.startswith("100 samples at 200 Hz (0.5 s of Python)")
    assert "padang112 60 %, sqlalchemy 30 %, json 10 %" in first
    # one function however many lines its samples came from (line numbers dropped), the heaviest first
    assert functions[0].split() == ["60.0", "%", "Controller._take", "(padang112/controller.py)"]
    assert "Session.execute (sqlalchemy/orm/session.py)" in functions[1]
