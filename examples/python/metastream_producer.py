#!/usr/bin/python3
"""A metastream producer and adapted-model reader written from the schemas alone.

It needs only Debian's python3-avro and python3-confluent-kafka and the .avsc files in
schemas/src/main/avro (no Java, no generated code). It simulates a few tasks of a small system whose
actuator gain differs per task, writes every step to the experience topic as a Transition in Avro
single-object encoding (key = taskId), and reads the adapted topic (read_committed) until every one
of its tasks has received an adaptation of the model, checking each delta's SHA-256 on the way.

    examples/python/metastream_producer.py --bootstrap-servers localhost:9092 --model-name py-model

Run it against a job that expects observation size 2 and action size 1, e.g.
bin/metastream run --job-only --metastream.obs-dim 2 --metastream.act-dim 1 --metastream.model-name py-model

The last line it prints is a JSON summary; it exits 0 when every task received an adaptation.
"""

import argparse
import datetime
import hashlib
import io
import json
import os
import random
import sys
import time

import avro.io
import avro.schema
from confluent_kafka import Consumer, KafkaError, Producer

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SCHEMAS = os.path.join(HERE, "..", "..", "schemas", "src", "main", "avro")

# Avro single-object encoding: marker C3 01, the writer schema's CRC-64-AVRO fingerprint (8 bytes,
# little endian) of its Parsing Canonical Form, then the Avro binary body.
MARKER = b"\xc3\x01"
CRC64_EMPTY = 0xC15D213AA4D7A795


def _crc64_table():
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (CRC64_EMPTY & -(fp & 1))
        table.append(fp)
    return table


CRC64_TABLE = _crc64_table()


PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}
KEPT = ("name", "type", "fields", "symbols", "items", "values", "size")


def canonical(schema, namespace=""):
    """The Parsing Canonical Form of a schema given as parsed JSON, by the Avro specification's rules
    (primitives in simple form, full names, only the attributes that matter, in their order, no blanks).
    python3-avro 1.11's own canonical_form keeps {"type": "long"} for a logical type, which gives another
    fingerprint than the Java library's."""
    if isinstance(schema, str):
        if schema in PRIMITIVES:
            return json.dumps(schema)
        return json.dumps(schema if "." in schema or not namespace else namespace + "." + schema)
    if isinstance(schema, list):
        return "[" + ",".join(canonical(s, namespace) for s in schema) + "]"
    kind = schema["type"]
    if kind in PRIMITIVES:
        return json.dumps(kind)
    if isinstance(kind, (dict, list)):
        return canonical(kind, namespace)
    parts = []
    if kind in ("record", "enum", "fixed"):
        name = schema["name"]
        if "." not in name:
            ns = schema.get("namespace", namespace)
            name = ns + "." + name if ns else name
        namespace = name.rsplit(".", 1)[0] if "." in name else ""
        parts.append('"name":' + json.dumps(name))
    parts.append('"type":' + json.dumps(kind))
    if kind == "record":
        parts.append('"fields":[' + ",".join(
            '{"name":' + json.dumps(f["name"]) + ',"type":' + canonical(f["type"], namespace) + "}"
            for f in schema["fields"]) + "]")
    if kind == "enum":
        parts.append('"symbols":' + json.dumps(schema["symbols"], separators=(",", ":")))
    if kind == "array":
        parts.append('"items":' + canonical(schema["items"], namespace))
    if kind == "map":
        parts.append('"values":' + canonical(schema["values"], namespace))
    if kind == "fixed":
        parts.append('"size":' + str(int(schema["size"])))
    return "{" + ",".join(parts) + "}"


def fingerprint(schema_json):
    """CRC-64-AVRO of the schema's Parsing Canonical Form, as the 8 bytes that follow the marker."""
    fp = CRC64_EMPTY
    for b in canonical(schema_json).encode("utf-8"):
        fp = (fp >> 8) ^ CRC64_TABLE[(fp ^ b) & 0xFF]
    return fp.to_bytes(8, "little")


class Codec:
    """Single-object encoding of one record schema."""

    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        self.schema = avro.schema.parse(text)
        self.fingerprint = fingerprint(json.loads(text))
        self.writer = avro.io.DatumWriter(self.schema)
        self.reader = avro.io.DatumReader(self.schema, self.schema)

    def encode(self, record):
        out = io.BytesIO()
        out.write(MARKER)
        out.write(self.fingerprint)
        self.writer.write(record, avro.io.BinaryEncoder(out))
        return out.getvalue()

    def decode(self, data):
        """The record, or None when the bytes were written with another schema (or are not single-object)."""
        if data is None or len(data) < 10 or data[:2] != MARKER or data[2:10] != self.fingerprint:
            return None
        return self.reader.read(avro.io.BinaryDecoder(io.BytesIO(data[10:])))


class Task:
    """Position and velocity on a line; the action pushes with a gain that differs per task."""

    def __init__(self, task_id, gain, rng):
        self.task_id = task_id
        self.gain = gain
        self.rng = rng
        self.reset()

    def reset(self):
        self.state = [self.rng.uniform(-1, 1), self.rng.uniform(-0.5, 0.5)]

    def step(self, action):
        x, v = self.state
        v = 0.9 * v + 0.1 * self.gain * action
        x = x + 0.1 * v
        self.state = [x, v]
        return [x, v], -(x * x)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bootstrap-servers", required=True)
    p.add_argument("--model-name", default="py-model")
    p.add_argument("--experience-topic", default="metastream.experience")
    p.add_argument("--adapted-topic", default="metastream.adapted")
    p.add_argument("--schemas", default=DEFAULT_SCHEMAS, help="folder of the .avsc files")
    p.add_argument("--tasks", type=int, default=4)
    p.add_argument("--rate", type=float, default=400, help="transitions per second")
    p.add_argument("--seconds", type=float, default=120, help="give up after this long")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args(argv)

    transition = Codec(os.path.join(a.schemas, "Transition.avsc"))
    adapted = Codec(os.path.join(a.schemas, "AdaptedModel.avsc"))
    rng = random.Random(a.seed)
    gains = [0.5, 1.0, 1.5, -1.0, 2.0, -0.5, 0.8, -1.5]
    tasks = [Task("py-task-%d" % i, gains[i % len(gains)], rng) for i in range(a.tasks)]

    producer = Producer({"bootstrap.servers": a.bootstrap_servers, "acks": "all", "enable.idempotence": True,
                         "linger.ms": 20})
    consumer = Consumer({"bootstrap.servers": a.bootstrap_servers, "group.id": "py-example-%d" % os.getpid(),
                         "auto.offset.reset": "earliest", "enable.auto.commit": False,
                         "isolation.level": "read_committed"})
    consumer.subscribe([a.adapted_topic])

    errors = []

    def delivered(err, _msg):
        if err is not None:
            errors.append(str(err))

    sent = 0
    read = 0
    other_schema = 0
    bad_checksum = 0
    adapted_tasks = {}
    deadline = time.monotonic() + a.seconds
    started = time.monotonic()
    episode = 0
    step = 0
    while time.monotonic() < deadline and len(adapted_tasks) < len(tasks):
        for t in tasks:
            obs = list(t.state)
            action = rng.uniform(-1, 1)
            nxt, reward = t.step(action)
            done = step == 49
            record = {
                "taskId": t.task_id, "agentId": "py-agent-" + t.task_id, "episodeId": episode, "step": step,
                "observation": obs, "action": [action], "reward": reward, "nextObservation": nxt, "done": done,
                "policyVersion": None, "timestamp": datetime.datetime.now(datetime.timezone.utc),
                "kind": "EXPLORATION", "sparseReward": None,
            }
            producer.produce(a.experience_topic, key=t.task_id.encode("utf-8"), value=transition.encode(record),
                             on_delivery=delivered)
            sent += 1
            if done:
                t.reset()
        step = (step + 1) % 50
        if step == 0:
            episode += 1
        producer.poll(0)
        # keep to the rate
        ahead = sent / a.rate - (time.monotonic() - started)
        msg = consumer.poll(max(0.0, min(ahead, 0.5)))
        while msg is not None:
            if msg.error() is None:
                rec = adapted.decode(msg.value())
                if rec is None:
                    other_schema += 1
                elif rec["modelName"] == a.model_name:
                    read += 1
                    delta = rec["adaptation"].get("delta")
                    if delta is not None and hashlib.sha256(delta).hexdigest() != rec["adaptation"]["deltaSha256"].lower():
                        bad_checksum += 1
                    else:
                        adapted_tasks[rec["taskId"]] = rec["baseVersion"]
            elif msg.error().code() != KafkaError._PARTITION_EOF:
                errors.append(str(msg.error()))
            msg = consumer.poll(0)
    producer.flush(30)
    consumer.close()
    ours = {k: v for k, v in adapted_tasks.items() if k in {t.task_id for t in tasks}}
    summary = {"sent": sent, "deliveryErrors": len(errors), "firstError": errors[0] if errors else None,
               "tasks": len(tasks), "adaptedTasks": len(ours), "adaptationsRead": read,
               "otherSchema": other_schema, "badChecksum": bad_checksum,
               "baseVersions": ours, "transitionFingerprint": transition.fingerprint.hex(),
               "adaptedFingerprint": adapted.fingerprint.hex()}
    print(json.dumps(summary, sort_keys=True))
    return 0 if len(ours) == len(tasks) and not errors and bad_checksum == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
