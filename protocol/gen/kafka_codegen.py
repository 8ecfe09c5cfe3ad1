#!/usr/bin/env python3
"""Generates Odradek's C codecs from Apache Kafka's JSON message specs.

Usage:
    kafka_codegen.py [--specs DIR] [--overlay-jar JAR] [--out DIR] [--check]

A few specs come from a newer Kafka release than DIR: spec_overlay.json (next
to this file) names a kafka-clients jar, its sha256, and which spec files are
read out of it in place of DIR's. An overlay may only add versions.

The output is deterministic: the same specs always give the same bytes, so
`--check` (used by CI) can regenerate into a temporary directory and compare.

Wire semantics follow Kafka's own generated Java code: absent fields take their
defaults on read, a non-default value for a non-ignorable field the version
lacks is an error on write, tagged fields are written only when they differ
from their default, and unknown tagged fields are kept and re-emitted.
"""

import argparse
import filecmp
import hashlib
import json
import os
import re
import sys
import tempfile
import zipfile

SPEC_DIRS = ["message", "metadata", "raft", "storage", "group-coordinator",
             "transaction-coordinator"]
GENERATOR = "protocol/gen/kafka_codegen.py"
OVERLAY_MANIFEST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "spec_overlay.json")
VMAX = 32767  # the open end of an "N+" version range

C_KEYWORDS = {
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double",
    "else", "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long",
    "register", "restrict", "return", "short", "signed", "sizeof", "static", "struct",
    "switch", "typedef", "union", "unsigned", "void", "volatile", "while", "bool",
    "true", "false", "alignas", "alignof", "noreturn", "static_assert", "thread_local",
    "errno", "stdin", "stdout", "stderr", "unix", "linux", "i386",
}

# Fixed-width primitives: C type, encoded size, reader, writer.
PRIMS = {
    "bool": ("bool", 1, "od_read_bool", "od_write_bool"),
    "int8": ("int8_t", 1, "od_read_i8", "od_write_i8"),
    "int16": ("int16_t", 2, "od_read_i16", "od_write_i16"),
    "uint16": ("uint16_t", 2, "od_read_u16", "od_write_u16"),
    "int32": ("int32_t", 4, "od_read_i32", "od_write_i32"),
    "uint32": ("uint32_t", 4, "od_read_u32", "od_write_u32"),
    "int64": ("int64_t", 8, "od_read_i64", "od_write_i64"),
    "float64": ("double", 8, "od_read_f64", "od_write_f64"),
    "uuid": ("od_uuid", 16, "od_read_uuid", None),
}
VARLEN = {"string": "od_str", "bytes": "od_bytes", "records": "od_bytes"}
# Element types that primitive arrays may hold, with their array type names.
ARRAY_ELEMS = ["bool", "int8", "int16", "uint16", "int32", "uint32", "int64", "float64",
               "uuid", "string", "bytes"]
KINDS = {"request": "OD_MESSAGE_REQUEST", "response": "OD_MESSAGE_RESPONSE",
         "header": "OD_MESSAGE_HEADER", "data": "OD_MESSAGE_DATA",
         "metadata": "OD_MESSAGE_METADATA"}


# ------------------------------------------------------------------ parsing

def strip_comments(text):
    """Removes // comments that are outside JSON strings."""
    out = []
    i, n = 0, len(text)
    in_string = False
    while i < n:
        c = text[i]
        if in_string:
            out.append(c)
            if c == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if c == '"':
                in_string = False
        elif c == '"':
            in_string = True
            out.append(c)
        elif c == "/" and text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


def parse_versions(s):
    """Returns (lo, hi) or None for an empty range."""
    if s is None:
        return None
    s = str(s).strip()
    if s in ("", "none"):
        return None
    if s.endswith("+"):
        return (int(s[:-1]), VMAX)
    if "-" in s:
        lo, hi = s.split("-")
        return (int(lo), int(hi))
    return (int(s), int(s))


def intersect(a, b):
    if a is None or b is None:
        return None
    lo, hi = max(a[0], b[0]), min(a[1], b[1])
    return (lo, hi) if lo <= hi else None


def hull(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return (min(a[0], b[0]), max(a[1], b[1]))


def snake(name):
    s = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    s = re.sub(r"(?<=[A-Z])(?=[A-Z][a-z])", "_", s)
    return s.lower()


def version_cond(rng, cur):
    """C condition for `version in rng`, given version is known to be in cur.

    Returns True, False or a C expression string."""
    inter = intersect(rng, cur)
    if inter is None:
        return False
    parts = []
    if inter[0] > cur[0]:
        parts.append("version >= %d" % inter[0])
    if inter[1] < cur[1]:
        parts.append("version <= %d" % inter[1])
    if not parts:
        return True
    if len(parts) == 2 and inter[0] == inter[1]:
        return "version == %d" % inter[0]
    return " && ".join(parts)


def absent_cond(rng, cur):
    """C condition for `version not in rng`, given version is known to be in cur."""
    inter = intersect(rng, cur)
    if inter is None:
        return True
    parts = []
    if inter[0] > cur[0]:
        parts.append("version < %d" % inter[0])
    if inter[1] < cur[1]:
        parts.append("version > %d" % inter[1])
    if not parts:
        return False
    if len(parts) == 2 and inter[0] == inter[1]:
        return "version != %d" % inter[0]
    return " || ".join(parts)


def paren_or(expr):
    """Parenthesises an expression that contains a top-level-looking ||."""
    return "(%s)" % expr if "||" in expr else expr


def cexpr(cond):
    if cond is True:
        return "true"
    if cond is False:
        return "false"
    return cond


class Field:
    def __init__(self, spec, struct, msg):
        self.name = spec["name"]
        self.cname = snake(self.name)
        if self.cname in C_KEYWORDS or self.cname == "unknown_tags":
            self.cname += "_"
        t = spec["type"].strip()
        self.is_array = t.startswith("[]")
        self.elem = t[2:] if self.is_array else t
        self.versions = parse_versions(spec.get("versions"))
        self.nullable = parse_versions(spec.get("nullableVersions"))
        self.tagged = parse_versions(spec.get("taggedVersions"))
        self.tag = None if spec.get("tag") is None else int(spec["tag"])
        self.ignorable = bool(spec.get("ignorable", False))
        raw_default = spec.get("default")
        # A JSON null default means "no default given", as in Kafka's generator.
        self.default = "" if raw_default is None else str(raw_default)
        if isinstance(raw_default, bool):
            self.default = "true" if raw_default else "false"
        self.flex_override = ("flexibleVersions" in spec)
        self.flex = parse_versions(spec.get("flexibleVersions"))
        self.struct = None  # element or field struct, resolved later
        self.inline_fields = spec.get("fields")
        self.owner = struct
        if self.tagged is not None and self.tag is None:
            raise SystemExit("%s.%s: tagged versions without a tag" % (msg.name, self.name))
        if self.is_array:
            if self.elem not in PRIMS and self.elem not in VARLEN:
                self.kind = "struct_array"
            else:
                if self.elem == "records":
                    raise SystemExit("arrays of records are not supported")
                self.kind = "prim_array"
        elif self.elem in PRIMS:
            self.kind = "prim"
        elif self.elem in VARLEN:
            self.kind = self.elem
        else:
            self.kind = "struct"

    def flexible_versions(self, msg):
        return self.flex if self.flex_override else msg.flexible

    def struct_by_pointer(self):
        return self.kind == "struct" and self.nullable is not None


class Struct:
    def __init__(self, name, cname, fields_spec, declared, msg, is_top=False):
        self.name = name
        self.cname = cname
        self.declared = declared
        self.msg = msg
        self.is_top = is_top
        self.reach = None
        self.fields = [Field(f, self, msg) for f in fields_spec]
        self.used_in_array = False
        self.needs_is_default = False
        names = set()
        for f in self.fields:
            if f.cname in names:
                raise SystemExit("%s: duplicate field name %s" % (cname, f.cname))
            names.add(f.cname)

    def eff(self):
        """Versions in which this struct's codec is used; version checks and
        field conditions are relative to this range."""
        r = intersect(self.reach, self.declared) if self.reach else self.declared
        return r if r is not None else (0, 0)


class Message:
    def __init__(self, spec, path):
        self.path = path
        self.name = spec["name"]
        self.cname = "od_" + snake(self.name)
        self.type = spec["type"]
        if self.type not in KINDS:
            raise SystemExit("%s: unknown message type %s" % (path, self.type))
        self.api_key = spec.get("apiKey", -1)
        self.valid = parse_versions(spec["validVersions"])
        self.flexible = parse_versions(spec.get("flexibleVersions"))
        self.unstable = bool(spec.get("latestVersionUnstable", False))
        self.listeners = sorted(spec.get("listeners", []))
        self.structs = {}
        self.order = []
        common = {}
        for cs in spec.get("commonStructs", []):
            common[cs["name"]] = cs
        self.common_specs = common
        self.top = Struct(self.name, self.cname, spec["fields"], self.valid, self, True)
        self.register(self.top)
        self.resolve(self.top)
        self.compute_reach()
        self.compute_order()

    def register(self, s):
        if s.name in self.structs:
            raise SystemExit("%s: struct %s defined twice" % (self.name, s.name))
        self.structs[s.name] = s

    def resolve(self, s):
        for f in s.fields:
            if f.kind not in ("struct", "struct_array"):
                continue
            if f.inline_fields is not None:
                sub = Struct(f.elem, self.cname + "_" + snake(f.elem), f.inline_fields,
                             f.versions, self)
                self.register(sub)
                f.struct = sub
                self.resolve(sub)
            elif f.elem in self.structs:
                f.struct = self.structs[f.elem]
            elif f.elem in self.common_specs:
                cs = self.common_specs[f.elem]
                sub = Struct(cs["name"], self.cname + "_" + snake(cs["name"]), cs["fields"],
                             parse_versions(cs.get("versions", "0+")), self)
                self.register(sub)
                f.struct = sub
                self.resolve(sub)
            else:
                raise SystemExit("%s: unknown struct type %s" % (self.name, f.elem))

    def compute_reach(self):
        self.top.reach = self.valid
        changed = True
        while changed:
            changed = False
            for s in list(self.structs.values()):
                if s.reach is None:
                    continue
                for f in s.fields:
                    if f.struct is None:
                        continue
                    r = intersect(s.reach, f.versions)
                    new = hull(f.struct.reach, r)
                    if new != f.struct.reach:
                        f.struct.reach = new
                        changed = True

    def compute_order(self):
        seen = set()

        def visit(s):
            if s.name in seen:
                return
            seen.add(s.name)
            for f in s.fields:
                if f.struct is not None:
                    visit(f.struct)
            self.order.append(s)
        visit(self.top)
        for s in self.structs.values():
            visit(s)

    def file_stem(self):
        return snake(self.name)


class Overlay:
    """Spec files read out of a Maven artifact (a jar) instead of the specs directory."""

    def __init__(self, manifest_path, jar_path):
        with open(manifest_path, encoding="utf-8") as fh:
            manifest = json.load(fh)
        self.artifact = manifest["artifact"]
        self.specs = {}
        with open(jar_path, "rb") as fh:
            digest = hashlib.sha256(fh.read()).hexdigest()
        if digest != manifest["sha256"]:
            raise SystemExit("%s: sha256 %s, but %s pins %s" % (
                jar_path, digest, os.path.basename(manifest_path), manifest["sha256"]))
        with zipfile.ZipFile(jar_path) as jar:
            for target, member in sorted(manifest["specs"].items()):
                folder = target.split("/", 1)[0]
                if folder not in SPEC_DIRS or not target.endswith(".json"):
                    raise SystemExit("overlay target %s is not a spec file path" % target)
                self.specs[target] = jar.read(member).decode("utf-8")

    @staticmethod
    def artifact_paths(manifest_path=OVERLAY_MANIFEST):
        """Where the artifact may already be: the local Maven repository, then build.sh's cache."""
        with open(manifest_path, encoding="utf-8") as fh:
            group, name, version = json.load(fh)["artifact"].split(":")
        rel = os.path.join(*group.split("."), name, version, "%s-%s.jar" % (name, version))
        home = os.path.expanduser("~")
        cache = os.environ.get("ODRADEK_CACHE") or os.path.join(
            os.environ.get("XDG_CACHE_HOME") or os.path.join(home, ".cache"), "odradek")
        return [os.path.join(home, ".m2", "repository", rel), os.path.join(cache, "maven", rel)]


def check_overlay_keeps_versions(base, newer):
    """An overlay replaces a spec with a later revision of it: every version the
    base spec has must still be there, with the same flexibility."""
    if newer.name != base.name or newer.api_key != base.api_key or newer.type != base.type:
        raise SystemExit("overlay %s is not a revision of %s" % (newer.path, base.path))
    lo, hi = base.valid
    if newer.valid is None or newer.valid[0] > lo or newer.valid[1] < hi:
        raise SystemExit("overlay %s: versions %s would drop some of %s's %s" % (
            newer.path, fmt_range(newer.valid), base.path, fmt_range(base.valid)))
    for v in range(lo, hi + 1):
        if in_range(v, base.flexible) != in_range(v, newer.flexible):
            raise SystemExit("overlay %s changes whether version %d is flexible" % (newer.path, v))


def load_specs(spec_root, overlay=None):
    msgs = []
    replaced = set()
    for d in SPEC_DIRS:
        path = os.path.join(spec_root, d)
        if not os.path.isdir(path):
            raise SystemExit("missing spec directory %s" % path)
        for fn in sorted(os.listdir(path)):
            if not fn.endswith(".json"):
                continue
            full = os.path.join(path, fn)
            with open(full, encoding="utf-8") as fh:
                spec = json.loads(strip_comments(fh.read()))
            msg = Message(spec, d + "/" + fn)
            key = d + "/" + fn
            if overlay is not None and key in overlay.specs:
                newer = Message(json.loads(strip_comments(overlay.specs[key])),
                                "%s from %s" % (key, overlay.artifact))
                check_overlay_keeps_versions(msg, newer)
                replaced.add(key)
                msg = newer
            msgs.append(msg)
    if overlay is not None and replaced != set(overlay.specs):
        raise SystemExit("overlay replaces specs that %s lacks: %s" % (
            spec_root, ", ".join(sorted(set(overlay.specs) - replaced))))
    msgs.sort(key=lambda m: m.name)
    names = set()
    for m in msgs:
        for s in m.structs.values():
            for n in (s.cname, s.cname + "_array"):
                if n in names:
                    raise SystemExit("generated name collision: %s" % n)
                names.add(n)
    return msgs


# ------------------------------------------------------------------ C helpers

def c_string(s):
    out = []
    for ch in s.encode("utf-8"):
        c = chr(ch)
        if c in '"\\':
            out.append("\\" + c)
        elif 32 <= ch < 127:
            out.append(c)
        else:
            out.append("\\%03o" % ch)
    return '"' + "".join(out) + '"'


INT_LIMITS = {"int8": (-128, 127), "int16": (-32768, 32767), "uint16": (0, 65535),
              "int32": (-2**31, 2**31 - 1), "uint32": (0, 2**32 - 1),
              "int64": (-2**63, 2**63 - 1)}


def int_literal(t, v):
    lo, hi = INT_LIMITS[t]
    if not lo <= v <= hi:
        raise SystemExit("default %d out of range for %s" % (v, t))
    if t == "int64":
        if v == lo:
            return "INT64_MIN"
        return "INT64_C(%d)" % v
    if t == "int32" and v == lo:
        return "INT32_MIN"
    if t == "uint32":
        return "UINT32_C(%d)" % v
    return "%d" % v


def parse_int_default(s):
    s = s.strip()
    neg = s.startswith("-")
    body = s[1:] if neg else s
    if body.lower().startswith("0x"):
        v = int(body, 16)
    elif len(body) > 1 and body.startswith("0"):
        v = int(body, 8)
    else:
        v = int(body)
    return -v if neg else v


def field_ctype(f):
    if f.kind == "prim":
        return PRIMS[f.elem][0]
    if f.kind in VARLEN:
        return VARLEN[f.kind]
    if f.kind == "prim_array":
        return "od_%s_array" % array_tname(f.elem)
    if f.kind == "struct_array":
        return f.struct.cname + "_array"
    if f.struct_by_pointer():
        return "const %s *" % f.struct.cname
    return f.struct.cname


def array_tname(elem):
    return {"string": "str"}.get(elem, elem)


def default_init(f):
    """A constant initializer for the field's default value."""
    d = f.default
    if f.kind == "prim":
        t = f.elem
        if t == "bool":
            if d not in ("", "true", "false"):
                raise SystemExit("bad bool default %s" % d)
            return "true" if d == "true" else "false"
        if t == "float64":
            return repr(float(d)) if d else "0.0"
        if t == "uuid":
            if d:
                raise SystemExit("uuid defaults are not supported")
            return "{{0}}"
        return int_literal(t, parse_int_default(d) if d else 0)
    if f.kind == "string":
        if d == "null":
            return "{NULL, -1}"
        return "{%s, %d}" % (c_string(d), len(d.encode("utf-8")))
    if f.kind == "bytes":
        if d == "null":
            return "{NULL, -1}"
        if d:
            raise SystemExit("bytes default must be empty or null")
        return "{NULL, 0}"
    if f.kind == "records":
        return "{NULL, -1}"
    if f.kind in ("prim_array", "struct_array"):
        if d == "null":
            return "{-1, NULL}"
        if d:
            raise SystemExit("array default must be empty or null")
        return "{0, NULL}"
    if f.struct_by_pointer():
        if d == "null":
            return "NULL"
        return "&%s_defaults" % f.struct.cname
    return struct_default_init(f.struct)


def struct_default_init(s):
    parts = [".%s = %s" % (f.cname, default_init(f)) for f in s.fields]
    parts.append(".unknown_tags = {0, NULL}")
    return "{" + ", ".join(parts) + "}"


def nondefault_expr(f, ref):
    """C expression: the field (accessed as `ref`) differs from its default,
    in the sense Kafka uses to decide whether to write or reject it."""
    d = f.default
    if f.kind == "prim":
        t = f.elem
        if t == "bool":
            return "!%s" % ref if d == "true" else ref
        if t == "uuid":
            return "!od_uuid_is_zero(&%s)" % ref
        return "%s != %s" % (ref, default_init(f))
    if f.kind == "string":
        if d == "null":
            return "%s.len >= 0" % ref
        return "!od_str_eq(%s, (od_str)%s)" % (ref, default_init(f))
    if f.kind == "bytes":
        return "%s.len != %d" % (ref, -1 if d == "null" else 0)
    if f.kind == "records":
        return "%s.len >= 0" % ref
    if f.kind in ("prim_array", "struct_array"):
        return "%s.count != %d" % (ref, -1 if d == "null" else 0)
    s = f.struct
    s.needs_is_default = True
    if f.struct_by_pointer():
        if d == "null":
            return "%s != NULL" % ref
        return "(%s == NULL || !%s_is_default(%s))" % (ref, s.cname, ref)
    return "!%s_is_default(&%s)" % (s.cname, ref)


def min_size(f, v, msg):
    """Smallest encoding of field f at version v (untagged)."""
    flex = f.flexible_versions(msg)
    compact = flex is not None and flex[0] <= v <= flex[1]
    if f.kind == "prim":
        return PRIMS[f.elem][1]
    if f.kind == "string":
        return 1 if compact else 2
    if f.kind in ("bytes", "records", "prim_array", "struct_array"):
        return 1 if compact else 4
    nullable = f.nullable is not None and f.nullable[0] <= v <= f.nullable[1]
    if nullable:
        return 1
    return struct_min_size(f.struct, v)


def struct_min_size(s, v):
    msg = s.msg
    total = 0
    for f in s.fields:
        if not in_range(v, f.versions) or in_range(v, f.tagged):
            continue
        total += min_size(f, v, msg)
    if in_range(v, msg.flexible):
        total += 1
    return total


def in_range(v, rng):
    return rng is not None and rng[0] <= v <= rng[1]


# ------------------------------------------------------------------ header

HEADER_TOP = """/*
 * Generated by %s from Apache Kafka's JSON message specs.
 * Do not edit: change the generator and regenerate
 * (`cmake --build <dir> --target regen`); CI fails when this is stale.
 */
""" % GENERATOR


class Out:
    def __init__(self):
        self.lines = []
        self.ind = 0

    def __call__(self, s=""):
        if s:
            self.lines.append("    " * self.ind + s)
        else:
            self.lines.append("")

    def block(self, head):
        self(head + " {")
        self.ind += 1

    def func(self, head):
        self(head)
        self("{")
        self.ind += 1

    def end(self, tail=""):
        self.ind -= 1
        self("}" + tail)

    def text(self):
        return "\n".join(self.lines) + "\n"


def gen_header(msgs):
    o = Out()
    o(HEADER_TOP.rstrip("\n"))
    o("#ifndef ODRADEK_PROTOCOL_OD_MESSAGES_H")
    o("#define ODRADEK_PROTOCOL_OD_MESSAGES_H")
    o()
    o("#include <stdbool.h>")
    o("#include <stddef.h>")
    o("#include <stdint.h>")
    o()
    o('#include "wire.h"')
    o()
    o("""/*
 * One C struct per message and per nested struct, named after the spec:
 * ProduceRequest is od_produce_request, its TopicProduceData is
 * od_produce_request_topic_produce_data. One struct covers every version;
 * every function takes the version.
 *
 *   X_init(m)                sets every field to its default (custom defaults
 *                            included); do this before filling a message.
 *   X_decode(m, r, version)  overwrites *m. Strings, bytes and records are
 *                            views into the reader's buffer, which must outlive
 *                            m; arrays and nullable structs come from r->arena.
 *                            Fields the version lacks get their defaults.
 *   X_encode(m, w, version)  appends to w. Fails with
 *                            OD_WIRE_FIELD_NOT_IN_VERSION for a non-default
 *                            value of a non-ignorable field the version lacks
 *                            (ignorable ones are dropped), and with
 *                            OD_WIRE_NULL_NOT_ALLOWED for a null the version
 *                            cannot carry.
 *   X_size(m, version)       exactly the number of bytes X_encode writes.
 *
 * All return the reader's or writer's first error; both are sticky.
 *
 * Field types: nullable strings/bytes/records have len == -1 for null; arrays
 * have count == -1 for null; a struct field that is nullable in some version
 * is a const pointer (NULL for null), otherwise it is embedded. Tagged fields
 * are ordinary members: they are written only when they differ from their
 * default. unknown_tags keeps tagged fields this code does not know, so they
 * are re-emitted unchanged.
 */""")
    o()
    o("/* Arrays: count == -1 is a null array; items come from the decoding arena. */")
    for e in ARRAY_ELEMS:
        ct = PRIMS[e][0] if e in PRIMS else VARLEN[e]
        o("typedef struct od_%s_array {" % array_tname(e))
        o("    int32_t count;")
        o("    %s *items;" % ct)
        o("} od_%s_array;" % array_tname(e))
    o()
    o("""typedef enum od_message_kind {
    OD_MESSAGE_REQUEST,
    OD_MESSAGE_RESPONSE,
    OD_MESSAGE_HEADER,
    OD_MESSAGE_DATA,     /* embedded data: consumer protocol, coordinator records, snapshots */
    OD_MESSAGE_METADATA, /* KRaft metadata log records; api_key is the record type */
} od_message_kind;

/* One entry per spec: a type-erased view of the codec below. */
typedef struct od_message_desc {
    const char *name;               /* the spec name, e.g. "ProduceRequest" */
    od_message_kind kind;
    int16_t api_key;                /* -1 if none */
    int16_t min_version;
    int16_t max_version;            /* highest valid version, unstable ones included */
    int16_t first_flexible_version; /* -1 if no version is flexible */
    size_t struct_size;
    void (*init)(void *m);
    od_wire_err (*decode)(void *m, od_reader *r, int16_t version);
    od_wire_err (*encode)(const void *m, od_writer *w, int16_t version);
    size_t (*size)(const void *m, int16_t version);
} od_message_desc;

/* Sorted by name. */
extern const od_message_desc od_message_descs[];
extern const size_t od_message_desc_count;
/* Returns the descriptor named `name`, or NULL. */
const od_message_desc *od_message_desc_find(const char *name);

/* Which listeners serve an API (from the request spec). */
enum {
    OD_LISTENER_ZK_BROKER = 1 << 0,
    OD_LISTENER_BROKER = 1 << 1,
    OD_LISTENER_CONTROLLER = 1 << 2,
};

typedef struct od_api_info {
    const char *name;               /* e.g. "Produce" */
    int16_t api_key;
    int16_t min_version;
    /* Highest version to advertise. A spec whose latest version is unstable
     * advertises one less; max_version < min_version means nothing is stable. */
    int16_t max_version;
    int16_t latest_version;         /* highest version the codec handles */
    int16_t first_flexible_version; /* -1 if none */
    unsigned listeners;             /* OD_LISTENER_* bits */
    const od_message_desc *request;
    const od_message_desc *response;
} od_api_info;

/* Sorted by api_key. */
extern const od_api_info od_api_infos[];
extern const size_t od_api_info_count;
/* Returns the API with this key, or NULL for an unknown key. */
const od_api_info *od_api_find(int16_t api_key);
/* Request/response header version for a request of this API and version:
 * 0, 1 or 2 (request) / 0 or 1 (response); -1 for an unknown API key. */
int od_request_header_version(int16_t api_key, int16_t api_version);
int od_response_header_version(int16_t api_key, int16_t api_version);
""".rstrip("\n"))
    o()
    o("/* Shared helpers of the generated codecs; not for other callers. */")
    o("uint32_t od_codec_read_tag_count(od_reader *r);")
    o("const uint8_t *od_codec_read_tag_header(od_reader *r, uint32_t *tag);")
    o("void od_codec_end_tag(od_reader *r, const uint8_t *end);")
    o("void od_codec_keep_unknown_tag(od_reader *r, od_raw_tags *tags, uint32_t tag_count, uint32_t tag,")
    o("                               const uint8_t *end);")
    o("int32_t od_codec_write_unknown_tags(od_writer *w, const od_raw_tags *tags, int32_t from,")
    o("                                   uint64_t below_tag);")
    o("size_t od_codec_unknown_tags_size(const od_raw_tags *tags);")
    o("void od_codec_write_string(od_writer *w, od_str s, bool compact, bool nullable);")
    o("void od_codec_write_bytes(od_writer *w, od_bytes b, bool compact, bool nullable);")
    o("bool od_codec_write_array_len(od_writer *w, int32_t count, bool compact, bool nullable);")
    for e in ARRAY_ELEMS:
        tn = array_tname(e)
        o("void od_codec_read_%s_array(od_reader *r, od_%s_array *a, bool compact, bool nullable);" % (tn, tn))
        o("void od_codec_write_%s_array(od_writer *w, const od_%s_array *a, bool compact, bool nullable);" % (tn, tn))
        o("size_t od_codec_%s_array_size(const od_%s_array *a, bool compact);" % (tn, tn))
    o()
    for m in msgs:
        gen_message_decls(o, m)
    o("#endif")
    return o.text()


def gen_message_decls(o, m):
    o("/* ---------------------------------------------------------------- %s (%s%s) */" % (
        m.name, m.path, (", api key %d" % m.api_key) if m.api_key >= 0 else ""))
    o()
    for s in m.order:
        o("typedef struct %s %s;" % (s.cname, s.cname))
    element_structs = set(f.struct.cname for st in m.order for f in st.fields if f.kind == "struct_array")
    for s in m.order:
        if s.cname not in element_structs:
            continue
        o("typedef struct %s_array {" % s.cname)
        o("    int32_t count;")
        o("    %s *items;" % s.cname)
        o("} %s_array;" % s.cname)
    o()
    for s in m.order:
        o("struct %s {" % s.cname)
        for f in s.fields:
            ct = field_ctype(f)
            sep = "" if ct.endswith("*") else " "
            note = []
            if f.versions is not None:
                note.append("v%s" % fmt_range(f.versions))
            if f.nullable is not None:
                note.append("nullable v%s" % fmt_range(f.nullable))
            if f.tagged is not None:
                note.append("tag %d" % f.tag)
            if f.default:
                note.append("default %s" % f.default.replace("*/", "* /"))
            o("    %s%s%s; /* %s */" % (ct, sep, f.cname, ", ".join(note) if note else "no versions"))
        o("    od_raw_tags unknown_tags;")
        o("};")
        o()
    for s in m.order:
        c = s.cname
        o("void %s_init(%s *m);" % (c, c))
        o("od_wire_err %s_decode(%s *m, od_reader *r, int16_t version);" % (c, c))
        o("od_wire_err %s_encode(const %s *m, od_writer *w, int16_t version);" % (c, c))
        o("size_t %s_size(const %s *m, int16_t version);" % (c, c))
    o()


def fmt_range(r):
    if r[1] == VMAX:
        return "%d+" % r[0]
    if r[0] == r[1]:
        return "%d" % r[0]
    return "%d-%d" % r


# ------------------------------------------------------------------ codec

class Ctx:
    """Per-struct code generation context."""

    def __init__(self, s):
        self.s = s
        self.msg = s.msg
        self.cur = s.eff()
        self.flex_cond = version_cond(self.msg.flexible, self.cur)

    def flexible(self):
        return "flexible" if isinstance(self.flex_cond, str) else cexpr(self.flex_cond)

    def compact(self, f, rng=None):
        """Whether f uses compact encoding, for a version known to be in rng."""
        cond = version_cond(f.flexible_versions(self.msg), rng or self.cur)
        if isinstance(cond, str) and not f.flex_override:
            return "flexible"
        return cexpr(cond)

    def nullable(self, f, rng=None):
        return cexpr(version_cond(f.nullable, rng or self.cur))

    def declare_flexible(self, o):
        if isinstance(self.flex_cond, str):
            o("const bool flexible = %s;" % self.flex_cond)


def present_untagged(f, cur):
    """Version range where f is a regular field, within cur, or None."""
    p = intersect(f.versions, cur)
    if p is None:
        return None
    if f.tagged is None:
        return p
    if f.tagged[0] <= p[0]:
        return None if f.tagged[1] >= p[1] else (f.tagged[1] + 1, p[1])
    return (p[0], min(p[1], f.tagged[0] - 1))


def present_tagged(f, cur):
    if f.tagged is None:
        return None
    return intersect(intersect(f.versions, cur), f.tagged)


def emit_guarded(o, cond, lines):
    if cond is False:
        return
    if cond is True:
        for l in lines:
            o(l)
        return
    if len(lines) == 1:
        o("if (%s)" % cond)
        o.ind += 1
        o(lines[0])
        o.ind -= 1
    else:
        o.block("if (%s)" % cond)
        for l in lines:
            o(l)
        o.end()


def read_lines(ctx, f, ref, compact, nullable, tagged):
    if f.kind == "prim":
        return ["%s = %s(r);" % (ref, PRIMS[f.elem][2])]
    if f.kind == "string":
        return ["%s = od_read_string(r, %s, %s);" % (ref, compact, nullable)]
    if f.kind in ("bytes", "records"):
        return ["%s = od_read_bytes(r, %s, %s);" % (ref, compact, nullable)]
    if f.kind == "prim_array":
        return ["od_codec_read_%s_array(r, &%s, %s, %s);" % (array_tname(f.elem), ref, compact, nullable)]
    if f.kind == "struct_array":
        return ["%s_array_read(r, &%s, version, %s, %s);" % (f.struct.cname, ref, compact, nullable)]
    c = f.struct.cname
    if not f.struct_by_pointer():
        return ["(void)%s_decode(&%s, r, version);" % (c, ref)]
    marker = "od_read_uvarint(r) == 0" if tagged else "od_read_i8(r) < 0"
    alloc = ["%s *p = od_reader_alloc_array(r, 1, sizeof(%s));" % (c, c),
             "if (p)",
             "    (void)%s_decode(p, r, version);" % c,
             "%s = p;" % ref]
    if nullable == "false":
        return ["{"] + ["    " + l for l in alloc] + ["}"]
    if nullable == "true":
        return ["if (%s) {" % marker, "    %s = NULL;" % ref, "} else {"] + \
            ["    " + l for l in alloc] + ["}"]
    return ["if (%s && %s) {" % (nullable, marker), "    %s = NULL;" % ref, "} else {"] + \
        ["    " + l for l in alloc] + ["}"]


def write_lines(ctx, f, ref, compact, nullable, tagged):
    if f.kind == "prim":
        if f.elem == "uuid":
            return ["od_write_uuid(w, &%s);" % ref]
        return ["%s(w, %s);" % (PRIMS[f.elem][3], ref)]
    if f.kind == "string":
        return ["od_codec_write_string(w, %s, %s, %s);" % (ref, compact, nullable)]
    if f.kind in ("bytes", "records"):
        return ["od_codec_write_bytes(w, %s, %s, %s);" % (ref, compact, nullable)]
    if f.kind == "prim_array":
        return ["od_codec_write_%s_array(w, &%s, %s, %s);" % (array_tname(f.elem), ref, compact, nullable)]
    if f.kind == "struct_array":
        return ["%s_array_write(w, &%s, version, %s, %s);" % (f.struct.cname, ref, compact, nullable)]
    c = f.struct.cname
    if not f.struct_by_pointer():
        return ["(void)%s_encode(&%s, w, version);" % (c, ref)]
    null_marker = "od_write_uvarint(w, 0);" if tagged else "od_write_i8(w, -1);"
    some_marker = "od_write_uvarint(w, 1);" if tagged else "od_write_i8(w, 1);"
    lines = ["if (%s == NULL) {" % ref]
    if nullable == "false":
        lines.append("    od_writer_fail(w, OD_WIRE_NULL_NOT_ALLOWED);")
    elif nullable == "true":
        lines.append("    " + null_marker)
    else:
        lines += ["    if (%s)" % nullable, "        " + null_marker, "    else",
                  "        od_writer_fail(w, OD_WIRE_NULL_NOT_ALLOWED);"]
    lines.append("} else {")
    if nullable == "true":
        lines.append("    " + some_marker)
    elif nullable != "false":
        lines += ["    if (%s)" % nullable, "        " + some_marker]
    lines.append("    (void)%s_encode(%s, w, version);" % (c, ref))
    lines.append("}")
    return lines


def size_expr(ctx, f, ref, compact, nullable, tagged):
    if f.kind == "prim":
        return "%d" % PRIMS[f.elem][1]
    if f.kind == "string":
        return "od_string_size(%s, %s)" % (ref, compact)
    if f.kind in ("bytes", "records"):
        return "od_bytes_size(%s, %s)" % (ref, compact)
    if f.kind == "prim_array":
        return "od_codec_%s_array_size(&%s, %s)" % (array_tname(f.elem), ref, compact)
    if f.kind == "struct_array":
        return "%s_array_size(&%s, version, %s)" % (f.struct.cname, ref, compact)
    c = f.struct.cname
    if not f.struct_by_pointer():
        return "%s_size(&%s, version)" % (c, ref)
    inner = "(%s ? %s_size(%s, version) : 0)" % (ref, c, ref)
    if nullable == "false":
        return inner
    if nullable == "true":
        return "1 + " + inner
    return "(size_t)(%s) + %s" % (nullable, inner)


def gen_struct_codec(o, s):
    ctx = Ctx(s)
    c = s.cname
    cur = ctx.cur
    vcheck = []
    if cur[0] > -32768:
        vcheck.append("version < %d" % cur[0])
    if cur[1] < VMAX:
        vcheck.append("version > %d" % cur[1])
    vcheck = " || ".join(vcheck)
    tagged_fields = sorted([f for f in s.fields if present_tagged(f, cur) is not None],
                           key=lambda f: f.tag)
    tags = [f.tag for f in tagged_fields]
    if len(set(tags)) != len(tags):
        raise SystemExit("%s: duplicate tags" % c)
    flex_possible = ctx.flex_cond is not False

    # init
    o("static const %s %s_defaults = %s;" % (c, c, struct_default_init(s)))
    o()
    o.func("void %s_init(%s *m)" % (c, c))
    o("*m = %s_defaults;" % c)
    o.end()
    o()


    # decode
    o.func("od_wire_err %s_decode(%s *m, od_reader *r, int16_t version)" % (c, c))
    o("%s_init(m);" % c)
    if vcheck:
        o.block("if (%s)" % vcheck)
        o("od_reader_fail(r, OD_WIRE_UNSUPPORTED_VERSION);")
        o("return r->err;")
        o.end()
    ctx.declare_flexible(o)
    for f in s.fields:
        pu = present_untagged(f, cur)
        if pu is None:
            continue
        cond = version_cond(pu, cur)
        lines = read_lines(ctx, f, "m->" + f.cname, ctx.compact(f, pu), ctx.nullable(f, pu), False)
        emit_guarded(o, cond, lines)
    if flex_possible:
        tmp = Out()
        tmp("uint32_t tag_count = od_codec_read_tag_count(r);")
        tmp.block("for (uint32_t i = 0; i < tag_count; i++)")
        tmp("uint32_t tag;")
        tmp("const uint8_t *end = od_codec_read_tag_header(r, &tag);")
        tmp("if (end == NULL)")
        tmp("    break;")
        tmp.block("switch (tag)")
        tmp.ind -= 1
        for f in tagged_fields:
            pt = present_tagged(f, cur)
            tmp("case %d:" % f.tag)
            tmp.ind += 1
            flexr = intersect(cur, ctx.msg.flexible)
            cond = version_cond(pt, flexr)
            lines = read_lines(ctx, f, "m->" + f.cname, "true", ctx.nullable(f, pt), True)
            if cond is True:
                for l in lines:
                    tmp(l)
            else:
                tmp.block("if (%s)" % cond)
                for l in lines:
                    tmp(l)
                tmp.end(" else {")
                tmp.ind += 1
                tmp("od_reader_fail(r, OD_WIRE_MALFORMED);")
                tmp.end()
            tmp("break;")
            tmp.ind -= 1
        tmp("default:")
        tmp("    od_codec_keep_unknown_tag(r, &m->unknown_tags, tag_count, tag, end);")
        tmp("    break;")
        tmp.ind += 1
        tmp.end()
        tmp("od_codec_end_tag(r, end);")
        tmp.end()
        body = tmp.lines
        if ctx.flex_cond is True:
            for l in body:
                o(l)
        else:
            o.block("if (flexible)")
            for l in body:
                o(l)
            o.end()
    o("return r->err;")
    o.end()
    o()

    # encode
    o.func("od_wire_err %s_encode(const %s *m, od_writer *w, int16_t version)" % (c, c))
    if vcheck:
        o.block("if (%s)" % vcheck)
        o("od_writer_fail(w, OD_WIRE_UNSUPPORTED_VERSION);")
        o("return w->err;")
        o.end()
    ctx.declare_flexible(o)
    for f in s.fields:
        absent = absent_cond(f.versions, cur)
        if absent is not False and not f.ignorable:
            nd = nondefault_expr(f, "m->" + f.cname)
            if absent is True:
                o("if (%s)" % nd)
            else:
                o("if (%s && %s)" % (paren_or(absent), paren_or(nd)))
            o("    od_writer_fail(w, OD_WIRE_FIELD_NOT_IN_VERSION);")
        pu = present_untagged(f, cur)
        if pu is None:
            continue
        cond = version_cond(pu, cur)
        lines = write_lines(ctx, f, "m->" + f.cname, ctx.compact(f, pu), ctx.nullable(f, pu), False)
        emit_guarded(o, cond, lines)
    if flex_possible:
        tmp = Out()
        flexr = intersect(cur, ctx.msg.flexible)
        tmp("uint32_t tag_count = (uint32_t)(m->unknown_tags.count > 0 ? m->unknown_tags.count : 0);")
        for f in tagged_fields:
            pt = present_tagged(f, cur)
            cond = version_cond(pt, flexr)
            nd = nondefault_expr(f, "m->" + f.cname)
            if cond is True:
                tmp("const bool put_%s = %s;" % (f.cname, nd))
            else:
                tmp("const bool put_%s = (%s) && (%s);" % (f.cname, cond, nd))
            tmp("tag_count += put_%s;" % f.cname)
        tmp("od_write_uvarint(w, tag_count);")
        if tagged_fields:
            tmp("int32_t next_unknown = 0;")
        prev_tag = -1
        for f in tagged_fields:
            nullable = ctx.nullable(f, present_tagged(f, cur))
            # With no tag number between the previous known tag and this one,
            # no unknown field can belong here.
            if f.tag != prev_tag + 1:
                tmp("next_unknown = od_codec_write_unknown_tags(w, &m->unknown_tags, next_unknown, %d);" % f.tag)
            prev_tag = f.tag
            tmp.block("if (put_%s)" % f.cname)
            tmp("od_write_uvarint(w, %d);" % f.tag)
            psize = tagged_payload_size(ctx, f, nullable)
            tmp("od_write_uvarint(w, %s);" % (psize if psize.isdigit() else "(uint32_t)(%s)" % psize))
            for l in write_lines(ctx, f, "m->" + f.cname, "true", nullable, True):
                tmp(l)
            tmp.end()
        tmp("(void)od_codec_write_unknown_tags(w, &m->unknown_tags, %s, UINT64_MAX);" %
            ("next_unknown" if tagged_fields else "0"))
        if ctx.flex_cond is True:
            for l in tmp.lines:
                o(l)
        else:
            o.block("if (flexible)")
            for l in tmp.lines:
                o(l)
            o.end(" else if (m->unknown_tags.count > 0) {")
            o.ind += 1
            o("od_writer_fail(w, OD_WIRE_FIELD_NOT_IN_VERSION);")
            o.end()
    else:
        o("if (m->unknown_tags.count > 0)")
        o("    od_writer_fail(w, OD_WIRE_FIELD_NOT_IN_VERSION);")
    o("return w->err;")
    o.end()
    o()

    # size
    o.func("size_t %s_size(const %s *m, int16_t version)" % (c, c))
    o("size_t n = 0;")
    ctx.declare_flexible(o)
    fixed = 0
    for f in s.fields:
        pu = present_untagged(f, cur)
        if pu is None:
            continue
        cond = version_cond(pu, cur)
        e = size_expr(ctx, f, "m->" + f.cname, ctx.compact(f, pu), ctx.nullable(f, pu), False)
        if cond is True and f.kind == "prim":
            fixed += PRIMS[f.elem][1]
            continue
        emit_guarded(o, cond, ["n += %s;" % e])
    if fixed:
        o("n += %d;" % fixed)
    if flex_possible:
        tmp = Out()
        flexr = intersect(cur, ctx.msg.flexible)
        tmp("uint32_t tag_count = (uint32_t)(m->unknown_tags.count > 0 ? m->unknown_tags.count : 0);")
        tmp("n += od_codec_unknown_tags_size(&m->unknown_tags);")
        for f in tagged_fields:
            pt = present_tagged(f, cur)
            cond = version_cond(pt, flexr)
            nd = nondefault_expr(f, "m->" + f.cname)
            full = nd if cond is True else "(%s) && (%s)" % (cond, nd)
            tmp.block("if (%s)" % full)
            tmp("size_t payload = %s;" % tagged_payload_size(ctx, f, ctx.nullable(f, pt)))
            tmp("n += od_uvarint_size(%d) + od_uvarint_size((uint32_t)payload) + payload;" % f.tag)
            tmp("tag_count++;")
            tmp.end()
        tmp("n += od_uvarint_size(tag_count);")
        if ctx.flex_cond is True:
            for l in tmp.lines:
                o(l)
        else:
            o.block("if (flexible)")
            for l in tmp.lines:
                o(l)
            o.end()
    o("return n;")
    o.end()
    o()


def tagged_payload_size(ctx, f, nullable):
    if f.struct_by_pointer():
        c = f.struct.cname
        ref = "m->" + f.cname
        return "(%s ? 1 + %s_size(%s, version) : 1)" % (ref, c, ref)
    return size_expr(ctx, f, "m->" + f.cname, "true", nullable, True)


def gen_struct_array_helpers(o, s):
    c = s.cname
    ctx = Ctx(s)
    cur = ctx.cur
    sizes = [max(1, struct_min_size(s, v)) for v in range(cur[0], cur[1] + 1)] \
        if cur[1] - cur[0] < 200 else None
    o.func("static size_t %s_min_size(int16_t version)" % c)
    if sizes is None or len(set(sizes)) == 1:
        o("return %d;" % (sizes[0] if sizes else 1))
    else:
        o("static const uint16_t by_version[] = {%s};" % ", ".join(str(x) for x in sizes))
        o("if (version < %d || version > %d)" % (cur[0], cur[1]))
        o("    return 1;")
        o("return by_version[version - %d];" % cur[0] if cur[0] else "return by_version[version];")
    o.end()
    o()
    o.func("static void %s_array_read(od_reader *r, %s_array *a, int16_t version, bool compact, bool nullable)" % (c, c))
    o("a->count = od_read_array_len(r, compact, nullable, %s_min_size(version));" % c)
    o("a->items = NULL;")
    o("if (a->count <= 0)")
    o("    return;")
    o("a->items = od_reader_alloc_array(r, a->count, sizeof(%s));" % c)
    o.block("if (a->items == NULL)")
    o("a->count = 0;")
    o("return;")
    o.end()
    o("for (int32_t i = 0; i < a->count && r->err == OD_WIRE_OK; i++)")
    o("    (void)%s_decode(&a->items[i], r, version);" % c)
    o.end()
    o()
    o.func("static void %s_array_write(od_writer *w, const %s_array *a, int16_t version, bool compact, bool nullable)" % (c, c))
    o("if (!od_codec_write_array_len(w, a->count, compact, nullable))")
    o("    return;")
    o("for (int32_t i = 0; i < a->count && w->err == OD_WIRE_OK; i++)")
    o("    (void)%s_encode(&a->items[i], w, version);" % c)
    o.end()
    o()
    o.func("static size_t %s_array_size(const %s_array *a, int16_t version, bool compact)" % (c, c))
    o("size_t n = od_array_len_size(a->count, compact);")
    o("for (int32_t i = 0; i < a->count; i++)")
    o("    n += %s_size(&a->items[i], version);" % c)
    o("return n;")
    o.end()
    o()


def gen_is_default(o, s):
    c = s.cname
    o.func("static bool %s_is_default(const %s *m)" % (c, c))
    o("return m->unknown_tags.count == 0")
    for f in s.fields:
        o("    && !(%s)" % nondefault_expr(f, "m->" + f.cname))
    o.lines[-1] += ";"
    o.end()
    o()


def gen_message_source(m):
    for s in m.order:
        for f in s.fields:
            if f.kind == "struct_array":
                f.struct.used_in_array = True
    body = Out()
    for s in m.order:
        gen_struct_codec(body, s)
        if s.used_in_array:
            gen_struct_array_helpers(body, s)
    # Whole-struct default comparisons are emitted only where some check needs
    # them; each one can pull in its nested structs' comparisons.
    done = set()
    tail = Out()
    while True:
        todo = [s for s in m.order if s.needs_is_default and s.cname not in done]
        if not todo:
            break
        for s in todo:
            done.add(s.cname)
            gen_is_default(tail, s)
    o = Out()
    o(HEADER_TOP.rstrip("\n"))
    o("/* %s: %s */" % (m.name, m.path))
    o()
    o('#include "od_messages.h"')
    o()
    for s in m.order:
        if s.needs_is_default:
            o("static bool %s_is_default(const %s *m);" % (s.cname, s.cname))
        if s.used_in_array:
            o("static void %s_array_read(od_reader *r, %s_array *a, int16_t version, bool compact, bool nullable);" % (s.cname, s.cname))
            o("static void %s_array_write(od_writer *w, const %s_array *a, int16_t version, bool compact, bool nullable);" % (s.cname, s.cname))
            o("static size_t %s_array_size(const %s_array *a, int16_t version, bool compact);" % (s.cname, s.cname))
    o()
    o.lines += body.lines + tail.lines
    return o.text().rstrip("\n") + "\n"


# ------------------------------------------------------------------ support

def gen_support():
    o = Out()
    o(HEADER_TOP.rstrip("\n"))
    o("/* Helpers shared by every generated codec. */")
    o()
    o('#include "od_messages.h"')
    o()
    o("""uint32_t od_codec_read_tag_count(od_reader *r)
{
    uint32_t count = od_read_uvarint(r);
    /* Each tagged field takes at least two bytes (tag and size), so a count
     * the remaining bytes cannot hold is rejected before anything is kept. */
    if (r->err == OD_WIRE_OK && (count > od_reader_remaining(r) / 2 || count > INT32_MAX)) {
        od_reader_fail(r, OD_WIRE_MALFORMED);
        return 0;
    }
    return r->err == OD_WIRE_OK ? count : 0;
}

/* Reads a tag and its size; returns where the field's bytes end, or NULL
 * (with the reader failed) when the size runs past the buffer. */
const uint8_t *od_codec_read_tag_header(od_reader *r, uint32_t *tag)
{
    *tag = od_read_uvarint(r);
    uint32_t size = od_read_uvarint(r);
    if (r->err != OD_WIRE_OK)
        return NULL;
    if (size > od_reader_remaining(r)) {
        od_reader_fail(r, OD_WIRE_TRUNCATED);
        return NULL;
    }
    return r->pos + size;
}

/* A known tagged field must consume exactly the bytes its size announced. */
void od_codec_end_tag(od_reader *r, const uint8_t *end)
{
    if (r->err == OD_WIRE_OK && r->pos != end)
        od_reader_fail(r, OD_WIRE_MALFORMED);
}

void od_codec_keep_unknown_tag(od_reader *r, od_raw_tags *tags, uint32_t tag_count, uint32_t tag,
                               const uint8_t *end)
{
    size_t size = (size_t)(end - r->pos);
    const uint8_t *data = od_read_raw(r, size);
    if (r->err != OD_WIRE_OK)
        return;
    if (tags->items == NULL) {
        /* Room for every tag the count announced; the count was bounded by
         * the bytes remaining, so this stays proportional to the input. */
        tags->items = od_reader_alloc_array(r, (int32_t)tag_count, sizeof(od_raw_tag));
        tags->count = 0;
        if (tags->items == NULL)
            return;
    }
    tags->items[tags->count].tag = tag;
    tags->items[tags->count].data = (od_bytes){data, (int32_t)size};
    tags->count++;
}

/* Writes the kept unknown fields from index `from` whose tag is below
 * `below_tag`, so they interleave with the known ones in tag order;
 * returns the index of the first one not written. */
int32_t od_codec_write_unknown_tags(od_writer *w, const od_raw_tags *tags, int32_t from,
                                    uint64_t below_tag)
{
    while (from < tags->count && tags->items[from].tag < below_tag) {
        const od_raw_tag *t = &tags->items[from];
        int32_t len = t->data.len > 0 ? t->data.len : 0;
        od_write_uvarint(w, t->tag);
        od_write_uvarint(w, (uint32_t)len);
        od_write_raw(w, t->data.ptr, (size_t)len);
        from++;
    }
    return from;
}

size_t od_codec_unknown_tags_size(const od_raw_tags *tags)
{
    size_t n = 0;
    for (int32_t i = 0; i < tags->count; i++) {
        uint32_t len = tags->items[i].data.len > 0 ? (uint32_t)tags->items[i].data.len : 0;
        n += od_uvarint_size(tags->items[i].tag) + od_uvarint_size(len) + len;
    }
    return n;
}

void od_codec_write_string(od_writer *w, od_str s, bool compact, bool nullable)
{
    if (s.len < 0 && !nullable)
        od_writer_fail(w, OD_WIRE_NULL_NOT_ALLOWED);
    else
        od_write_string(w, s, compact);
}

void od_codec_write_bytes(od_writer *w, od_bytes b, bool compact, bool nullable)
{
    if (b.len < 0 && !nullable)
        od_writer_fail(w, OD_WIRE_NULL_NOT_ALLOWED);
    else
        od_write_bytes(w, b, compact);
}

/* Writes an array's length; returns whether elements should follow. */
bool od_codec_write_array_len(od_writer *w, int32_t count, bool compact, bool nullable)
{
    if (count < 0 && !nullable) {
        od_writer_fail(w, OD_WIRE_NULL_NOT_ALLOWED);
        return false;
    }
    od_write_array_len(w, count, compact);
    return count > 0 && w->err == OD_WIRE_OK;
}""")
    for e in ARRAY_ELEMS:
        tn = array_tname(e)
        ct = PRIMS[e][0] if e in PRIMS else VARLEN[e]
        o()
        o.func("void od_codec_read_%s_array(od_reader *r, od_%s_array *a, bool compact, bool nullable)" % (tn, tn))
        if e in PRIMS:
            o("a->count = od_read_array_len(r, compact, nullable, %d);" % PRIMS[e][1])
        else:
            o("a->count = od_read_array_len(r, compact, nullable, compact ? 1 : %d);" % (2 if e == "string" else 4))
        o("a->items = NULL;")
        o("if (a->count <= 0)")
        o("    return;")
        o("a->items = od_reader_alloc_array(r, a->count, sizeof(%s));" % ct)
        o.block("if (a->items == NULL)")
        o("a->count = 0;")
        o("return;")
        o.end()
        o("for (int32_t i = 0; i < a->count; i++)")
        if e == "string":
            o("    a->items[i] = od_read_string(r, compact, false);")
        elif e == "bytes":
            o("    a->items[i] = od_read_bytes(r, compact, false);")
        else:
            o("    a->items[i] = %s(r);" % PRIMS[e][2])
        o.end()
        o()
        o.func("void od_codec_write_%s_array(od_writer *w, const od_%s_array *a, bool compact, bool nullable)" % (tn, tn))
        o("if (!od_codec_write_array_len(w, a->count, compact, nullable))")
        o("    return;")
        o("for (int32_t i = 0; i < a->count; i++)")
        if e == "string":
            o("    od_codec_write_string(w, a->items[i], compact, false);")
        elif e == "bytes":
            o("    od_codec_write_bytes(w, a->items[i], compact, false);")
        elif e == "uuid":
            o("    od_write_uuid(w, &a->items[i]);")
        else:
            o("    %s(w, a->items[i]);" % PRIMS[e][3])
        o.end()
        o()
        o.func("size_t od_codec_%s_array_size(const od_%s_array *a, bool compact)" % (tn, tn))
        o("size_t n = od_array_len_size(a->count, compact);")
        if e in PRIMS:
            o("if (a->count > 0)")
            o("    n += (size_t)a->count * %d;" % PRIMS[e][1])
        else:
            o("for (int32_t i = 0; i < a->count; i++)")
            if e == "string":
                o("    n += od_string_size(a->items[i], compact);")
            else:
                o("    n += od_bytes_size(a->items[i], compact);")
        o("return n;")
        o.end()
    return o.text()


# ------------------------------------------------------------------ tables

def api_name(m):
    n = m.name
    for suffix in ("Request", "Response"):
        if n.endswith(suffix):
            return n[: -len(suffix)]
    return n


def gen_tables(msgs):
    o = Out()
    o(HEADER_TOP.rstrip("\n"))
    o("/* Message descriptors and the API table. */")
    o()
    o("#include <string.h>")
    o()
    o('#include "od_messages.h"')
    o()
    for m in msgs:
        c = m.cname
        o("static void init_%s(void *m) { %s_init(m); }" % (c, c))
        o("static od_wire_err decode_%s(void *m, od_reader *r, int16_t v) { return %s_decode(m, r, v); }" % (c, c))
        o("static od_wire_err encode_%s(const void *m, od_writer *w, int16_t v) { return %s_encode(m, w, v); }" % (c, c))
        o("static size_t size_%s(const void *m, int16_t v) { return %s_size(m, v); }" % (c, c))
    o()
    o("const od_message_desc od_message_descs[] = {")
    for m in msgs:
        c = m.cname
        o("    {\"%s\", %s, %d, %d, %d, %d, sizeof(%s), init_%s, decode_%s, encode_%s, size_%s}," % (
            m.name, KINDS[m.type], m.api_key, m.valid[0], m.valid[1],
            m.flexible[0] if m.flexible else -1, c, c, c, c, c))
    o("};")
    o("const size_t od_message_desc_count = sizeof od_message_descs / sizeof od_message_descs[0];")
    o()
    o("""const od_message_desc *od_message_desc_find(const char *name)
{
    size_t lo = 0, hi = od_message_desc_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(od_message_descs[mid].name, name);
        if (c == 0)
            return &od_message_descs[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}
""")
    idx = {m.name: i for i, m in enumerate(msgs)}
    apis = {}
    for m in msgs:
        if m.type in ("request", "response"):
            apis.setdefault(m.api_key, {})[m.type] = m
    o("const od_api_info od_api_infos[] = {")
    keys = sorted(apis)
    for k in keys:
        a = apis[k]
        if "request" not in a or "response" not in a:
            raise SystemExit("api key %d lacks a request or response" % k)
        rq, rs = a["request"], a["response"]
        if rq.valid != rs.valid:
            raise SystemExit("api key %d: request and response versions differ" % k)
        latest = rq.valid[1]
        stable = latest - 1 if (rq.unstable or rs.unstable) else latest
        bits = []
        for l in rq.listeners:
            bits.append({"zkBroker": "OD_LISTENER_ZK_BROKER", "broker": "OD_LISTENER_BROKER",
                         "controller": "OD_LISTENER_CONTROLLER"}[l])
        o("    {\"%s\", %d, %d, %d, %d, %d, %s, &od_message_descs[%d], &od_message_descs[%d]}," % (
            api_name(rq), k, rq.valid[0], stable, latest,
            rq.flexible[0] if rq.flexible else -1, " | ".join(bits) if bits else "0",
            idx[rq.name], idx[rs.name]))
    o("};")
    o("const size_t od_api_info_count = sizeof od_api_infos / sizeof od_api_infos[0];")
    o()
    table = ["-1"] * (keys[-1] + 1)
    for i, k in enumerate(keys):
        table[k] = str(i)
    o("/* api key -> index into od_api_infos, -1 for a gap. */")
    o("static const int16_t api_index[%d] = {" % len(table))
    for i in range(0, len(table), 16):
        o("    " + ", ".join(table[i:i + 16]) + ",")
    o("};")
    o()
    # Response flexibility can differ from the request's in principle.
    o("static const int16_t response_first_flexible[%d] = {" % len(keys))
    vals = [str(apis[k]["response"].flexible[0] if apis[k]["response"].flexible else -1) for k in keys]
    for i in range(0, len(vals), 16):
        o("    " + ", ".join(vals[i:i + 16]) + ",")
    o("};")
    o()
    o("""const od_api_info *od_api_find(int16_t api_key)
{
    if (api_key < 0 || (size_t)api_key >= sizeof api_index / sizeof api_index[0])
        return NULL;
    int16_t i = api_index[api_key];
    return i < 0 ? NULL : &od_api_infos[i];
}

static bool flexible_at(int16_t first_flexible, int16_t version)
{
    return first_flexible >= 0 && version >= first_flexible;
}

int od_request_header_version(int16_t api_key, int16_t api_version)
{
    const od_api_info *api = od_api_find(api_key);
    if (api == NULL)
        return -1;
    /* ControlledShutdown v0 predates the client id: its header is v0. */
    if (api_key == 7 && api_version == 0)
        return 0;
    return flexible_at(api->first_flexible_version, api_version) ? 2 : 1;
}

int od_response_header_version(int16_t api_key, int16_t api_version)
{
    const od_api_info *api = od_api_find(api_key);
    if (api == NULL)
        return -1;
    /* A client reads the ApiVersions response before it knows which versions
     * the broker speaks, so that response always has the v0 header. */
    if (api_key == 18)
        return 0;
    return flexible_at(response_first_flexible[api - od_api_infos], api_version) ? 1 : 0;
}""")
    return o.text()


# ------------------------------------------------------------------ testing

def gen_testing_header(msgs):
    o = Out()
    o(HEADER_TOP.rstrip("\n"))
    o("#ifndef ODRADEK_PROTOCOL_OD_MESSAGES_TESTING_H")
    o("#define ODRADEK_PROTOCOL_OD_MESSAGES_TESTING_H")
    o()
    o('#include "arena.h"')
    o('#include "od_messages.h"')
    o()
    o("""/* A small deterministic generator (splitmix64): the same seed gives the same
 * messages on every platform, so a failing seed can be replayed. */
typedef struct od_rng {
    uint64_t state;
} od_rng;

void od_rng_seed(od_rng *rng, uint64_t seed);
uint64_t od_rng_next(od_rng *rng);
/* Uniform in [0, n); n must be > 0. */
uint32_t od_rng_below(od_rng *rng, uint32_t n);

/* Helpers the fillers share. */
od_str od_testing_random_str(od_rng *rng, od_arena *arena);
od_bytes od_testing_random_bytes(od_rng *rng, od_arena *arena);
od_uuid od_testing_random_uuid(od_rng *rng);
void od_testing_random_unknown_tags(od_raw_tags *tags, uint32_t first_free_tag, od_rng *rng,
                                    od_arena *arena);

/* Fills every field present in `version` with random, encodable content; all
 * memory comes from `arena`. */
typedef void (*od_message_fill_random_fn)(void *m, int16_t version, od_rng *rng, od_arena *arena);
/* The filler for a descriptor from od_message_descs. */
od_message_fill_random_fn od_message_fill_random(const od_message_desc *desc);
""".rstrip("\n"))
    o()
    for m in msgs:
        o("void %s_fill_random(%s *m, int16_t version, od_rng *rng, od_arena *arena);" % (m.cname, m.cname))
    o()
    o("#endif")
    return o.text()


def gen_testing_support(msgs):
    o = Out()
    o(HEADER_TOP.rstrip("\n"))
    o()
    o('#include "od_messages_testing.h"')
    o()
    o("""void od_rng_seed(od_rng *rng, uint64_t seed)
{
    rng->state = seed;
}

uint64_t od_rng_next(od_rng *rng)
{
    uint64_t z = (rng->state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

uint32_t od_rng_below(od_rng *rng, uint32_t n)
{
    return (uint32_t)(od_rng_next(rng) % n);
}

od_str od_testing_random_str(od_rng *rng, od_arena *arena)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._";
    /* Mostly short, sometimes past 127 bytes so compact lengths take two bytes. */
    uint32_t len = od_rng_below(rng, 8) == 0 ? 120 + od_rng_below(rng, 40) : od_rng_below(rng, 12);
    char *p = od_arena_alloc(arena, len + 1);
    for (uint32_t i = 0; i < len; i++)
        p[i] = alphabet[od_rng_below(rng, sizeof alphabet - 1)];
    p[len] = 0;
    return (od_str){p, (int32_t)len};
}

od_bytes od_testing_random_bytes(od_rng *rng, od_arena *arena)
{
    uint32_t len = od_rng_below(rng, 8) == 0 ? 120 + od_rng_below(rng, 40) : od_rng_below(rng, 16);
    uint8_t *p = od_arena_alloc(arena, len + 1);
    for (uint32_t i = 0; i < len; i++)
        p[i] = (uint8_t)od_rng_next(rng);
    return (od_bytes){p, (int32_t)len};
}

od_uuid od_testing_random_uuid(od_rng *rng)
{
    od_uuid u;
    uint64_t a = od_rng_next(rng), b = od_rng_next(rng);
    for (int i = 0; i < 8; i++) {
        u.bytes[i] = (uint8_t)(a >> (8 * i));
        u.bytes[8 + i] = (uint8_t)(b >> (8 * i));
    }
    return u;
}

void od_testing_random_unknown_tags(od_raw_tags *tags, uint32_t first_free_tag, od_rng *rng,
                                    od_arena *arena)
{
    tags->count = 0;
    tags->items = NULL;
    if (od_rng_below(rng, 4) != 0)
        return;
    int32_t n = 1 + (int32_t)od_rng_below(rng, 3);
    tags->items = od_arena_calloc(arena, (size_t)n, sizeof(od_raw_tag));
    uint32_t tag = first_free_tag;
    for (int32_t i = 0; i < n; i++) {
        tag += od_rng_below(rng, 200);
        tags->items[i].tag = tag;
        tags->items[i].data = od_testing_random_bytes(rng, arena);
        tag++;
    }
    tags->count = n;
}""")
    o()
    for m in msgs:
        c = m.cname
        o("static void fill_%s(void *m, int16_t v, od_rng *rng, od_arena *arena) { %s_fill_random(m, v, rng, arena); }" % (c, c))
    o()
    o("static const od_message_fill_random_fn fillers[] = {")
    for m in msgs:
        o("    fill_%s," % m.cname)
    o("};")
    o()
    o("""od_message_fill_random_fn od_message_fill_random(const od_message_desc *desc)
{
    size_t i = (size_t)(desc - od_message_descs);
    if (i >= od_message_desc_count || i >= sizeof fillers / sizeof fillers[0])
        return NULL;
    return fillers[i];
}""")
    return o.text()


PRIM_RANDOM = {
    "bool": "od_rng_below(rng, 2) == 1",
    "int8": "(int8_t)od_rng_next(rng)",
    "int16": "(int16_t)od_rng_next(rng)",
    "uint16": "(uint16_t)od_rng_next(rng)",
    "int32": "(int32_t)od_rng_next(rng)",
    "uint32": "(uint32_t)od_rng_next(rng)",
    "int64": "(int64_t)od_rng_next(rng)",
    "float64": "(double)(int32_t)od_rng_next(rng) / 16.0",
    "uuid": "od_testing_random_uuid(rng)",
}


def fill_value_lines(f, ref, nullable):
    """Lines that set ref to a random value; nullable is a C bool expression."""
    lines = []
    null_lit = {"string": "OD_STR_NULL", "bytes": "OD_BYTES_NULL", "records": "OD_BYTES_NULL"}
    maybe_null = None if nullable == "false" else (
        "od_rng_below(rng, 8) == 0" if nullable == "true" else "(%s) && od_rng_below(rng, 8) == 0" % nullable)
    if f.kind == "prim":
        return ["%s = %s;" % (ref, PRIM_RANDOM[f.elem])]
    if f.kind in null_lit:
        fn = "od_testing_random_str" if f.kind == "string" else "od_testing_random_bytes"
        if maybe_null:
            return ["%s = %s ? %s : %s(rng, arena);" % (ref, maybe_null, null_lit[f.kind], fn)]
        return ["%s = %s(rng, arena);" % (ref, fn)]
    if f.kind in ("prim_array", "struct_array"):
        if f.kind == "prim_array":
            et = PRIMS[f.elem][0] if f.elem in PRIMS else VARLEN[f.elem]
            if f.elem in PRIMS:
                el = PRIM_RANDOM[f.elem]
            elif f.elem == "string":
                el = "od_testing_random_str(rng, arena)"
            else:
                el = "od_testing_random_bytes(rng, arena)"
            each = "%s.items[i] = %s;" % (ref, el)
        else:
            et = f.struct.cname
            each = "%s_fill_random(&%s.items[i], version, rng, arena);" % (f.struct.cname, ref)
        # Primitive arrays sometimes pass 127 elements so compact lengths take
        # two bytes; struct arrays stay small because they nest.
        count = "(int32_t)od_rng_below(rng, 4)" if f.kind == "struct_array" else \
            "(int32_t)(od_rng_below(rng, 16) == 0 ? 127 + od_rng_below(rng, 8) : od_rng_below(rng, 4))"
        body = ["%s.count = %s;" % (ref, count),
                "%s.items = od_arena_calloc(arena, (size_t)%s.count + 1, sizeof(%s));" % (ref, ref, et),
                "for (int32_t i = 0; i < %s.count; i++)" % ref,
                "    " + each]
        if maybe_null:
            return ["if (%s) {" % maybe_null, "    %s.count = -1;" % ref, "    %s.items = NULL;" % ref,
                    "} else {"] + ["    " + l for l in body] + ["}"]
        return body
    c = f.struct.cname
    if not f.struct_by_pointer():
        return ["%s_fill_random(&%s, version, rng, arena);" % (c, ref)]
    alloc = ["%s *p = od_arena_alloc(arena, sizeof(%s));" % (c, c),
             "%s_fill_random(p, version, rng, arena);" % c,
             "%s = p;" % ref]
    if maybe_null:
        return ["if (%s) {" % maybe_null, "    %s = NULL;" % ref, "} else {"] + \
            ["    " + l for l in alloc] + ["}"]
    return ["{"] + ["    " + l for l in alloc] + ["}"]


def gen_fill_source(m):
    o = Out()
    o(HEADER_TOP.rstrip("\n"))
    o("/* Random fillers for %s (tests only). */" % m.name)
    o()
    o('#include "od_messages_testing.h"')
    o()
    for s in m.order:
        if not s.is_top:
            o("static void %s_fill_random(%s *m, int16_t version, od_rng *rng, od_arena *arena);" % (s.cname, s.cname))
    o()
    for s in m.order:
        ctx = Ctx(s)
        cur = ctx.cur
        static = "" if s.is_top else "static "
        o.func("%svoid %s_fill_random(%s *m, int16_t version, od_rng *rng, od_arena *arena)" % (static, s.cname, s.cname))
        o("%s_init(m);" % s.cname)
        o("if (version < %d || version > %d)" % (cur[0], cur[1]) if cur[1] < VMAX else "if (version < %d)" % cur[0])
        o("    return;")
        flexr = intersect(cur, m.flexible)
        for f in s.fields:
            pu = present_untagged(f, cur)
            if pu is not None:
                cond = version_cond(pu, cur)
                lines = fill_value_lines(f, "m->" + f.cname, ctx.nullable(f, pu))
                emit_guarded(o, cond, lines)
            pt = present_tagged(f, cur)
            if pt is not None:
                cond = version_cond(pt, cur)
                # Tagged fields stay at their default a third of the time.
                full = "od_rng_below(rng, 3) != 0" if cond is True else "(%s) && od_rng_below(rng, 3) != 0" % cond
                lines = fill_value_lines(f, "m->" + f.cname, ctx.nullable(f, pt))
                o.block("if (%s)" % full)
                for l in lines:
                    o(l)
                o.end()
        if ctx.flex_cond is not False:
            known = [f.tag for f in s.fields if f.tag is not None]
            first_free = (max(known) + 1) if known else 0
            lines = ["od_testing_random_unknown_tags(&m->unknown_tags, %d, rng, arena);" % first_free]
            emit_guarded(o, ctx.flex_cond, lines)
        o.end()
        o()
    return o.text()


# ------------------------------------------------------------------ driver

def generate(spec_root, out_dir, overlay=None):
    msgs = load_specs(spec_root, overlay)
    files = {}
    files["od_messages.h"] = gen_header(msgs)
    files["od_codec_support.c"] = gen_support()
    files["od_message_tables.c"] = gen_tables(msgs)
    for m in msgs:
        files[m.file_stem() + ".c"] = gen_message_source(m)
    files["testing/od_messages_testing.h"] = gen_testing_header(msgs)
    files["testing/od_testing_support.c"] = gen_testing_support(msgs)
    for m in msgs:
        files["testing/" + m.file_stem() + "_fill.c"] = gen_fill_source(m)
    os.makedirs(os.path.join(out_dir, "testing"), exist_ok=True)
    for name in sorted(files):
        path = os.path.join(out_dir, name)
        data = files[name].encode("utf-8")
        try:
            with open(path, "rb") as fh:
                if fh.read() == data:
                    continue
        except FileNotFoundError:
            pass
        with open(path, "wb") as fh:
            fh.write(data)
    # Remove outputs of specs that no longer exist.
    for sub in ("", "testing"):
        d = os.path.join(out_dir, sub)
        for fn in sorted(os.listdir(d)):
            rel = os.path.join(sub, fn) if sub else fn
            if os.path.isfile(os.path.join(d, fn)) and rel not in files and fn.endswith((".c", ".h")):
                os.remove(os.path.join(d, fn))
    return sorted(files)


def list_outputs(d):
    out = set()
    for sub in ("", "testing"):
        p = os.path.join(d, sub)
        if not os.path.isdir(p):
            continue
        for fn in os.listdir(p):
            if fn.endswith((".c", ".h")) and os.path.isfile(os.path.join(p, fn)):
                out.add(os.path.join(sub, fn) if sub else fn)
    return out


def find_overlay_jar(explicit):
    if explicit:
        return explicit
    for path in Overlay.artifact_paths():
        if os.path.isfile(path):
            return path
    raise SystemExit("the overlay artifact is in none of: %s\n"
                     "(`./build.sh regen` fetches it, or pass --overlay-jar)" % ", ".join(Overlay.artifact_paths()))


def main():
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap = argparse.ArgumentParser(description="Generate C codecs from Kafka message specs.")
    ap.add_argument("--specs", default=os.path.join(repo, "..", "shared", "kafka-specs"))
    ap.add_argument("--overlay-jar", help="the artifact spec_overlay.json names "
                    "(default: found in ~/.m2 or build.sh's download cache)")
    ap.add_argument("--print-overlay-paths", action="store_true",
                    help="print the places searched for the overlay artifact, then its sha256, and exit")
    ap.add_argument("--out", default=os.path.join(repo, "protocol", "generated"))
    ap.add_argument("--check", action="store_true",
                    help="regenerate into a temporary directory and fail if --out differs")
    args = ap.parse_args()
    if args.print_overlay_paths:
        with open(OVERLAY_MANIFEST, encoding="utf-8") as fh:
            manifest = json.load(fh)
        group, name, version = manifest["artifact"].split(":")
        print("\n".join(Overlay.artifact_paths()))
        print("%s/%s/%s/%s/%s-%s.jar" % ("https://repo1.maven.org/maven2", group.replace(".", "/"),
                                        name, version, name, version))
        print(manifest["sha256"])
        return 0
    overlay = Overlay(OVERLAY_MANIFEST, find_overlay_jar(args.overlay_jar))
    if not args.check:
        generate(args.specs, args.out, overlay)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        generate(args.specs, tmp, overlay)
        want, have = list_outputs(tmp), list_outputs(args.out)
        differing = sorted((want ^ have) | {f for f in want & have
                                            if not filecmp.cmp(os.path.join(tmp, f),
                                                               os.path.join(args.out, f),
                                                               shallow=False)})
    if differing:
        print("generated code is stale; run %s" % GENERATOR, file=sys.stderr)
        for f in differing:
            print("  " + f, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
