#!/usr/bin/env python3
"""Tests of the spec overlay rules in kafka_codegen.py (stdlib only; CTest runs it).

Synthetic specs and jars built here, so the test needs neither the Kafka specs
nor the real kafka-clients jar.
"""

import hashlib
import json
import os
import sys
import tempfile
import unittest
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kafka_codegen as gen  # noqa: E402


def spec(valid, flexible="0+", extra_fields=()):
    return {
        "apiKey": 68, "type": "request", "name": "ConsumerGroupHeartbeatRequest",
        "validVersions": valid, "flexibleVersions": flexible,
        "fields": [{"name": "GroupId", "type": "string", "versions": "0+"}] + list(extra_fields),
    }


def message(s, path="message/ConsumerGroupHeartbeatRequest.json"):
    return gen.Message(s, path)


class KeepsVersions(unittest.TestCase):
    def test_adding_a_version_is_accepted(self):
        regex = {"name": "SubscribedTopicRegex", "type": "string", "versions": "1+",
                 "nullableVersions": "1+", "default": "null"}
        gen.check_overlay_keeps_versions(message(spec("0")), message(spec("0-1", extra_fields=[regex])))

    def test_a_raised_lower_bound_is_refused(self):
        with self.assertRaises(SystemExit) as e:
            gen.check_overlay_keeps_versions(message(spec("0-1")), message(spec("1-2")))
        self.assertIn("would drop", str(e.exception))

    def test_a_lowered_upper_bound_is_refused(self):
        with self.assertRaises(SystemExit):
            gen.check_overlay_keeps_versions(message(spec("0-3")), message(spec("0-2")))

    def test_changing_flexibility_of_a_kept_version_is_refused(self):
        with self.assertRaises(SystemExit) as e:
            gen.check_overlay_keeps_versions(message(spec("0-1", "0+")), message(spec("0-2", "1+")))
        self.assertIn("flexible", str(e.exception))

    def test_another_message_is_refused(self):
        other = spec("0-1")
        other["name"] = "ConsumerGroupDescribeRequest"
        other["apiKey"] = 69
        with self.assertRaises(SystemExit):
            gen.check_overlay_keeps_versions(message(spec("0")), message(other))


class ReadsTheJar(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.jar = os.path.join(self.dir.name, "specs.jar")
        with zipfile.ZipFile(self.jar, "w") as z:
            z.writestr("common/message/ConsumerGroupHeartbeatRequest.json",
                       "// a comment, as Kafka's specs have\n" + json.dumps(spec("0-1")))
        with open(self.jar, "rb") as fh:
            self.sha = hashlib.sha256(fh.read()).hexdigest()

    def tearDown(self):
        self.dir.cleanup()

    def manifest(self, sha, target="message/ConsumerGroupHeartbeatRequest.json"):
        path = os.path.join(self.dir.name, "overlay.json")
        with open(path, "w", encoding="utf-8") as fh:
            json.dump({"artifact": "g.h:a:1", "sha256": sha,
                       "specs": {target: "common/message/ConsumerGroupHeartbeatRequest.json"}}, fh)
        return path

    def test_the_pinned_jar_is_read(self):
        overlay = gen.Overlay(self.manifest(self.sha), self.jar)
        text = overlay.specs["message/ConsumerGroupHeartbeatRequest.json"]
        self.assertEqual(json.loads(gen.strip_comments(text))["validVersions"], "0-1")

    def test_a_jar_with_another_sha256_is_refused(self):
        with self.assertRaises(SystemExit) as e:
            gen.Overlay(self.manifest("0" * 64), self.jar)
        self.assertIn("sha256", str(e.exception))

    def test_a_target_outside_the_spec_folders_is_refused(self):
        with self.assertRaises(SystemExit):
            gen.Overlay(self.manifest(self.sha, target="elsewhere/X.json"), self.jar)

    def test_the_committed_manifest_names_only_existing_spec_folders(self):
        with open(gen.OVERLAY_MANIFEST, encoding="utf-8") as fh:
            manifest = json.load(fh)
        self.assertEqual(len(manifest["sha256"]), 64)
        for target in manifest["specs"]:
            self.assertIn(target.split("/", 1)[0], gen.SPEC_DIRS)


if __name__ == "__main__":
    unittest.main()
