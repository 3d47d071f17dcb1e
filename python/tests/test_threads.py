"""The GIL is released while bundles are evaluated, and a rule set is shared by threads.

The GIL tests use no clock: with forced thread switches off, a second Python thread can run
during a call only if the binding releases the GIL (see `where_another_thread_ran`)."""

import contextlib
import json
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import balance_doctor
from conftest import AS_OF

RULES = balance_doctor.RuleSet()


@contextlib.contextmanager
def no_forced_switch():
    """CPython makes the thread holding the GIL hand it over when another thread has waited
    `sys.getswitchinterval()` (5 ms by default) for it. Set to 1000 s, a waiting Python thread
    gets the GIL only when the holder leaves it: by blocking, or by native code that releases
    it."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1000.0)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def where_another_thread_ran(call, attempts):
    """Gets a second Python thread ready to run, then makes up to `attempts` calls of `call()`
    until that thread has run. The loop blocks nowhere, and forced switches are off, so the
    thread can run inside a call only if the binding releases the GIL there; otherwise it runs
    at the `join()` after the loop. Returns the calls made and what the thread saw: `[True]`
    if it ran inside a call, `[False]` if only after the loop."""
    inside = [False]
    seen = []
    ready = threading.Event()

    def other():
        ready.wait()
        seen.append(inside[0])

    with no_forced_switch():
        thread = threading.Thread(target=other)
        thread.start()
        ready.set()  # `other` now waits for the GIL only
        calls = 0
        while not seen and calls < attempts:
            inside[0] = True
            call()
            inside[0] = False
            calls += 1
        thread.join()  # blocks: `other` runs here if it has not run yet
    return calls, seen


def test_another_python_thread_runs_while_evaluate_many_is_in_rust(cli):
    lines = cli("generate", "--count", "500", "--seed", "3").stdout.splitlines()
    for threads in (1, None):

        def evaluate():
            results = RULES.evaluate_many(lines, as_of=AS_OF, threads=threads, as_json=True)
            assert sum(1 for _ in results) == len(lines)

        calls, seen = where_another_thread_ran(evaluate, attempts=20)
        assert seen == [True], (
            f"threads={threads}: another Python thread could not run during {calls} calls of "
            f"evaluate_many over {len(lines)} bundles: the GIL is held while Rust evaluates"
        )


def test_another_python_thread_runs_while_evaluate_is_in_rust(cli):
    line = cli("generate", "--count", "1", "--seed", "3").stdout.splitlines()[0]
    bundle = json.loads(line)
    for given in (line, bundle):
        calls, seen = where_another_thread_ran(
            lambda: RULES.evaluate(given, as_of=AS_OF, explain=True), attempts=2000
        )
        assert seen == [True], (
            f"another Python thread could not run during {calls} calls of evaluate with a "
            f"{type(given).__name__}: the GIL is held while Rust evaluates"
        )


def test_one_rule_set_from_many_python_threads_gives_the_same_results(cli):
    lines = cli("generate", "--count", "64", "--seed", "5").stdout.splitlines()
    expected = [RULES.evaluate(line, as_of=AS_OF) for line in lines]
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda line: RULES.evaluate(line, as_of=AS_OF), lines))
    assert got == expected
    assert json.dumps(got)
