"""The checks of membership.py can fail: fed made-up event logs, they find what they must."""

from membership import commits_in_order, consumed, overlaps, ownership_intervals


class FakeMember:
    def __init__(self, name, events, ended_us=None):
        self.name, self.events, self.ended_us = name, events, ended_us

    def snapshot(self):
        return list(self.events)


def ev(t, kind, **fields):
    return {"t": t, "ev": kind, **fields}


def test_overlap_found_and_handover_accepted():
    a = FakeMember("a", [ev(10, "assigned", parts=[0, 1]), ev(50, "revoked", parts=[0, 1]),
                         ev(60, "assigned", parts=[0])], ended_us=100)
    b = FakeMember("b", [ev(51, "assigned", parts=[1]), ev(55, "records", recs=[[1, 0], [1, 1]])], ended_us=90)
    assert overlaps([a, b]) == []
    # b takes partition 0 while a still holds it (a got it back at 60).
    c = FakeMember("c", [ev(70, "assigned", parts=[0]), ev(80, "lost", parts=[0])], ended_us=85)
    found = overlaps([a, b, c])
    assert len(found) == 1 and found[0][0] == 0, found
    assert sorted(ownership_intervals(a)) == [(0, 10, 50), (0, 60, 100), (1, 10, 50)]
    assert consumed([a, b]) == {(1, 0), (1, 1)}


def test_a_killed_member_holds_until_its_death():
    a = FakeMember("a", [ev(10, "assigned", parts=[0])], ended_us=40)
    b = FakeMember("b", [ev(30, "assigned", parts=[0])], ended_us=50)
    assert overlaps([a, b]) != []
    b.events = [ev(41, "assigned", parts=[0])]
    assert overlaps([a, b]) == []


def test_commits_are_ordered_by_time():
    a = FakeMember("a", [ev(10, "commit", offs={"0": 5}), ev(30, "commit", offs={"0": 3})])
    b = FakeMember("b", [ev(20, "commit", offs={"0": 7})])
    assert [(t, p, o) for t, p, o, _ in commits_in_order([a, b])] == [(10, 0, 5), (20, 0, 7), (30, 0, 3)]
