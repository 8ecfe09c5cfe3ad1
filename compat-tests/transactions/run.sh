#!/usr/bin/env bash
# Runs the transaction scenarios (see README.md) on the client suite's harness: this suite's
# setup.sh (cached), then ../clients/run.sh, which sets up the clients and runs pytest here.
# Arguments go to pytest unchanged.
#
#   run.sh --brokers kafka                           every scenario against Kafka only
#   ODRADEK_BIN=build/release/broker/odradek run.sh  against Kafka and Odradek
#
# Environment: as ../clients/run.sh; ODRADEK_SOAK=1 for the long exactly-once runs
# (ODRADEK_EOS_SEED=N to replay a seed).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/setup.sh"
ODRADEK_SUITE_DIR="$here" exec "$here/../clients/run.sh" "$@"
