#!/usr/bin/env python3
"""A seeded blast of random and mutated request frames, then a check that
the broker still serves a new connection. Run it against a Sanitize build:
with_broker.sh fails the test when the broker's log holds a sanitizer
report or the broker does not stop cleanly afterwards.

Frames come from four generators, picked at random per frame:
  - a request of the codec corpus (od_codec_tool random: every request
    message the broker advertises, at every version it serves, filled at
    random), sent as it is;
  - the same with bytes flipped, cut short, extended or spliced;
  - a request header for a known key at a random version (-1..20) and a
    random body;
  - a random size prefix (sometimes negative or huge) and random bytes.
APIs that create, delete or reconfigure (a random partition count could
fill the disk) are left out; everything else, served or not, is in.

usage: random_frames.py CODEC_TOOL SPECS_DIR SEED COUNT HOST PORT
Exit 0 when the broker answers ApiVersions and Metadata on a fresh
connection at every checkpoint and at the end. The same SEED and COUNT send
the same bytes.
"""
import glob
import json
import os
import random
import re
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bad_input import api_versions, frame, metadata_v4, read_reply  # noqa: E402

# CreateTopics, DeleteTopics, DeleteRecords, AlterConfigs, CreatePartitions,
# ElectLeaders, IncrementalAlterConfigs, AlterReplicaLogDirs, UpdateFeatures,
# and the KRaft controller's own APIs.
LEFT_OUT = {19, 20, 21, 33, 34, 37, 43, 44, 57, 7}
CHECK_EVERY = 500


def request_keys(specs):
    """name -> (api key, first flexible version or None), from the specs."""
    out = {}
    for path in glob.glob(os.path.join(specs, "message", "*Request.json")):
        text = re.sub(r"^\s*//.*$", "", open(path, encoding="utf-8").read(), flags=re.M)
        spec = json.loads(text)
        flex = spec.get("flexibleVersions", "none")
        out[spec["name"]] = (spec["apiKey"], None if flex == "none" else int(flex.rstrip("+")))
    return out


def corpus(tool, specs, seed):
    """[(api key, version, first flexible, body)] from od_codec_tool random."""
    keys = request_keys(specs)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "corpus")
        subprocess.run([tool, "random", str(seed), "2", path], check=True)
        data = open(path, "rb").read()
    out, off = [], 0
    while off < len(data):
        (nl,) = struct.unpack(">H", data[off:off + 2])
        name = data[off + 2:off + 2 + nl].decode()
        off += 2 + nl
        version, blen = struct.unpack(">hi", data[off:off + 6])
        off += 6
        body = data[off:off + blen]
        off += blen
        if name in keys and keys[name][0] not in LEFT_OUT:
            out.append((keys[name][0], version, keys[name][1], body))
    return out


def header(rng, key, version, flex):
    h = struct.pack(">hhi", key, version, rng.randrange(1 << 31))
    h += struct.pack(">h", 4) + b"rand"
    if flex is not None and version >= flex:
        h += b"\x00"
    return h


def mutate(rng, b):
    b = bytearray(b)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(5)
        if op == 0 and b:
            for _ in range(rng.randint(1, 8)):
                b[rng.randrange(len(b))] = rng.randrange(256)
        elif op == 1 and b:
            del b[rng.randrange(len(b)):]
        elif op == 2:
            b += bytes(rng.randrange(256) for _ in range(rng.randint(1, 32)))
        elif op == 3 and b:
            at = rng.randrange(len(b))
            b[at:at] = rng.choice([b"\xff\xff\xff\xff", b"\x7f\xff\xff\xff", b"\x80\x00\x00\x00", b"\x00",
                                   b"\xff\xff\xff\xff\x0f", b"\xff\xff"])
        elif op == 4 and len(b) > 8:
            at = rng.randrange(8, len(b))  # past key, version and correlation id
            b[at] ^= 1 << rng.randrange(8)
    return bytes(b)


def next_frame(rng, reqs):
    mode = rng.randrange(10)
    key, version, flex, body = rng.choice(reqs)
    if mode < 3:
        return frame(header(rng, key, version, flex) + body)
    if mode < 7:
        whole = header(rng, key, version, flex) + body
        # The key and version stay (mostly) intact so the mutation reaches a decoder.
        return frame(whole[:4] + mutate(rng, whole[4:]))
    if mode < 9:
        v = rng.randint(-1, 20)
        junk = bytes(rng.randrange(256) for _ in range(rng.randint(0, 200)))
        return frame(header(rng, key, v, flex) + junk)
    size = rng.choice([-1, -(1 << 31), 0, 1, 7, 8, rng.randint(9, 300), (1 << 31) - 1, 104857601])
    return struct.pack(">i", size) + bytes(rng.randrange(256) for _ in range(rng.randint(0, 64)))


def alive(host, port):
    try:
        s = socket.create_connection((host, port), timeout=10)
        s.sendall(api_versions(1, version=0))
        ok = isinstance(read_reply(s, 1, 10), bytes)
        s.sendall(metadata_v4(2, []))
        ok = ok and isinstance(read_reply(s, 2, 10), bytes)
        s.close()
        return ok
    except OSError:
        return False


RECEIVED = [0]


def drain(sock):
    try:
        while True:
            got = sock.recv(1 << 16)
            if not got:
                break
            RECEIVED[0] += len(got)
    except (BlockingIOError, socket.timeout):
        return True
    except OSError:
        return False
    return False  # end of stream: the broker closed


def finish(sock):
    """Half-closes, then reads until the broker closes too (at most 2 s), so
    every frame sent was taken in before the next connection starts."""
    try:
        sock.setblocking(True)
        sock.settimeout(2)
        sock.shutdown(socket.SHUT_WR)
        while True:
            got = sock.recv(1 << 16)
            if not got:
                break
            RECEIVED[0] += len(got)
    except OSError:
        pass
    sock.close()


def advertised(host, port):
    """{api key: (min, max)} from ApiVersions v0."""
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(api_versions(1, version=0))
    body = read_reply(s, 1, 10)
    s.close()
    n = struct.unpack(">i", body[2:6])[0]
    out = {}
    for i in range(n):
        k, lo, hi = struct.unpack(">hhh", body[6 + 6 * i:12 + 6 * i])
        out[k] = (lo, hi)
    return out


def main():
    if len(sys.argv) != 7:
        print(__doc__)
        return 2
    tool, specs, seed, count, host, port = sys.argv[1:]
    seed, count, port = int(seed), int(count), int(port)
    rng = random.Random(seed)
    served = advertised(host, port)
    # Requests the broker serves, at versions it serves: these reach the
    # handlers; the random-header generator still tries every key.
    reqs = [r for r in corpus(tool, specs, seed)
            if r[0] in served and served[r[0]][0] <= r[1] <= served[r[0]][1]]
    if not reqs:
        print("empty corpus")
        return 1
    conn, closes, started = None, 0, time.time()
    for i in range(count):
        if conn is None:
            conn = socket.create_connection((host, port), timeout=10)
            conn.setblocking(False)
        data = next_frame(rng, reqs)
        try:
            conn.sendall(data)
        except BlockingIOError:
            pass  # the broker stopped reading this connection: take a new one
        except OSError:
            conn.close()
            conn, closes = None, closes + 1
            continue
        # A few frames per connection, so most reach the decoder afresh
        # rather than as the body of an earlier frame's claimed length.
        if rng.randrange(4) == 0 or not drain(conn):
            finish(conn)
            conn, closes = None, closes + 1
        if (i + 1) % CHECK_EVERY == 0 and not alive(host, port):
            print("broker not serving after %d frames (seed %d)" % (i + 1, seed))
            return 1
    if conn is not None:
        finish(conn)
    if not alive(host, port):
        print("broker not serving at the end (seed %d)" % seed)
        return 1
    print("ok: %d frames, %d connections, %d reply bytes, %.1f s"
          % (count, closes, RECEIVED[0], time.time() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
