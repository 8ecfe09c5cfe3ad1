"""The transaction scenarios run on the client suite's harness, through the group suite's
conftest (which borrows ../clients/conftest.py and adds own_broker): the same brokers, the same
--brokers option and ODRADEK_COMPAT_BROKERS selection."""

import importlib.util
import sys
from pathlib import Path

GROUPS = Path(__file__).resolve().parent.parent / "groups"
sys.path.insert(0, str(GROUPS))

_spec = importlib.util.spec_from_file_location("groups_conftest", GROUPS / "conftest.py")
_groups = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_groups)

for _name in dir(_groups):
    if _name.startswith("pytest_") or _name in ("scratch_root", "broker", "own_broker"):
        globals()[_name] = getattr(_groups, _name)
