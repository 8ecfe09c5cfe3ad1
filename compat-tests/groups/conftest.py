"""The consumer-group scenarios run on the client suite's harness: the same brokers, the same
--brokers option and ODRADEK_COMPAT_BROKERS selection, the same fixtures (see
../clients/conftest.py). This file only borrows them and adds fixtures of its own."""

import importlib.util
import sys
from pathlib import Path

import pytest

CLIENTS = Path(__file__).resolve().parent.parent / "clients"
sys.path.insert(0, str(CLIENTS))

import harness  # noqa: E402  (found through the path above)

_spec = importlib.util.spec_from_file_location("clients_conftest", CLIENTS / "conftest.py")
_clients = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_clients)

# Hooks and fixtures are found by name in this module's namespace.
for _name in dir(_clients):
    if _name.startswith("pytest_") or _name in ("scratch_root", "broker"):
        globals()[_name] = getattr(_clients, _name)


@pytest.fixture
def own_broker(broker, scratch_root):
    """A broker of the same kind as `broker`, started for one test only: for scenarios that kill
    and restart it, so that the shared broker is never disturbed."""
    with harness.broker_like(broker, scratch_root) as b:
        yield b


# Kafka 3.9 serves the KIP-848 consumer protocol only when asked to (4.0 turns it on by default).
# The broker owns session and heartbeat timing in that protocol; the scenarios kill members, so
# a short session (as the classic members ask for) keeps them quick.
KIP848_PROPERTIES = {
    "group.coordinator.rebalance.protocols": "classic,consumer",
    "group.consumer.min.session.timeout.ms": "6000",
    "group.consumer.session.timeout.ms": "6000",
    "group.consumer.min.heartbeat.interval.ms": "1000",
    "group.consumer.heartbeat.interval.ms": "1000",
}


@pytest.fixture(scope="session")
def kip848_broker(broker, scratch_root):
    """A broker of the same kind as `broker` that also serves the KIP-848 consumer protocol;
    one per session, started when a KIP-848 scenario first needs it."""
    with harness.broker_like(broker, scratch_root, f"{broker.name} broker (KIP-848)",
                             extra_properties=KIP848_PROPERTIES) as b:
        yield b


# Kafka 3.9.2 has ConsumerGroupHeartbeat v0 only; v1 (Kafka 4.0: client-generated member ids,
# SubscribedTopicRegex) is what librdkafka's consumer protocol needs.
KIP848_V1_KAFKA_VERSION = "4.4.0"


@pytest.fixture(scope="session")
def kip848_v1_broker(request, broker, scratch_root):
    """A KIP-848 broker that serves ConsumerGroupHeartbeat v1: on the Kafka side Kafka 4.4.0 (one
    more JVM per session, started only when such a scenario runs; every other scenario stays on
    3.9.2), on the Odradek side the same broker as kip848_broker."""
    if isinstance(broker, harness.BrokerUnavailable) or broker.name != "kafka":
        yield request.getfixturevalue("kip848_broker")
        return
    with harness.running_broker(broker.name, scratch_root, f"Kafka {KIP848_V1_KAFKA_VERSION} (KIP-848)",
                                extra_properties=KIP848_PROPERTIES, kafka_version=KIP848_V1_KAFKA_VERSION) as b:
        yield b
