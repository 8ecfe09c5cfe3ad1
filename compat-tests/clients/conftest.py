"""Runs every scenario against each selected broker: Apache Kafka, to prove the scenario right,
and Odradek, the broker under test.

Brokers are chosen by --brokers=kafka,odradek or ODRADEK_COMPAT_BROKERS (the option wins);
both by default. One broker of each kind serves the whole session; scenarios use unique topic
names so that they cannot see each other's data.
"""

import os
import signal
import tempfile

import pytest

import harness


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config):
    # SIGTERM (run.sh forwards it; CTest and CI send it) becomes an interrupt, so pytest
    # still runs the fixtures' teardown and the brokers are stopped.
    signal.signal(signal.SIGTERM, _interrupt)


def pytest_addoption(parser):
    parser.addoption("--brokers", default=None,
                     help="comma-separated brokers to run against: kafka, odradek "
                          "(default: $ODRADEK_COMPAT_BROKERS, else both)")


def selected_brokers(config):
    raw = config.getoption("--brokers") or os.environ.get("ODRADEK_COMPAT_BROKERS") or ",".join(harness.ALL_BROKERS)
    names = [n.strip() for n in raw.split(",") if n.strip()]
    unknown = [n for n in names if n not in harness.ALL_BROKERS]
    if unknown:
        raise pytest.UsageError(f"unknown broker(s) {unknown}; choose from {list(harness.ALL_BROKERS)}")
    return names


def pytest_generate_tests(metafunc):
    if "broker" in metafunc.fixturenames:
        metafunc.parametrize("broker", selected_brokers(metafunc.config), indirect=True, scope="session")


@pytest.fixture(scope="session")
def scratch_root():
    root = os.environ.get("ODRADEK_COMPAT_TMP")
    made = root is None
    if made:
        root = tempfile.mkdtemp(prefix="odradek-clients-")
    yield root
    if made:
        harness.remove_tree(root)


@pytest.fixture(scope="session")
def broker(request, scratch_root):
    with harness.running_broker(request.param, scratch_root) as b:
        yield b


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item):
    # Raised here rather than in the fixtures, so that a broker that cannot start (the session's
    # or one a suite starts for some tests: any fixture's value) counts as failed tests (the
    # summary's "failed"), never as skipped or as setup errors.
    for value in getattr(item, "funcargs", {}).values():
        if isinstance(value, harness.BrokerUnavailable):
            pytest.fail(value.reason, pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    b = getattr(item, "funcargs", {}).get("broker")
    if rep.when == "call" and rep.failed and isinstance(b, harness.Broker):
        rep.sections.append((f"{b.name} broker log (tail)", b.log_tail()))


def pytest_terminal_summary(terminalreporter, config):
    stats = terminalreporter.stats
    config._compat_counts = (len(stats.get("passed", [])),
                             len(stats.get("failed", [])) + len(stats.get("error", [])))


def pytest_unconfigure(config):
    # A plain closing line after pytest's own, for tools that read "N passed, N failed";
    # setup errors count as failed.
    counts = getattr(config, "_compat_counts", None)
    if counts is not None and not config.option.collectonly:
        print(f"{counts[0]} passed, {counts[1]} failed", flush=True)
