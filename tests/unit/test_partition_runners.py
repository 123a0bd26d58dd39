"""The stream protocol without Kafka: partition runners over simulated topic logs, with random
interleaving between topics and partitions, random crashes (effects lost at any of the three
stages) and restarts from the table, compared with `loyalty replay` on the same file.

The Kafka-backed differential test (tests/e2e) checks the same with the real broker and Faust;
this one explores many more interleavings and crash points than a real run can.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import orjson
import pytest

from edge.program_file import load_program
from entrypoints.replay import member_json, replay
from loyalty.program import Program
from streams import state_codec
from streams.feed import file_messages, flush_messages
from streams.partitioning import partition_of
from streams.runner import (
    MEMBER_PREFIX,
    Effects,
    Inbound,
    PartitionRunner,
    runner_key,
)
from streams.topics import TopicNames
from workload.generator import Workload, settling_only_every

ROOT = Path(__file__).resolve().parents[2]
TP = tuple[str, int]


class Cluster:
    """Kafka logs, committed offsets, a table and one runner per partition."""

    def __init__(
        self,
        program: Program,
        partitions: int,
        rng: random.Random,
        checkpoint_every: int | None = None,
        timer_rate: float = 0.02,
    ) -> None:
        self.checkpoint_every = checkpoint_every
        self.timer_rate = timer_rate
        self.program = program
        self.partitions = partitions
        self.names = TopicNames("sim")
        self.rng = rng
        self.logs: dict[TP, list[Inbound]] = defaultdict(list)
        self.position: dict[TP, int] = defaultdict(int)
        self.acked: dict[TP, set[int]] = defaultdict(set)
        self.committed: dict[TP, int] = defaultdict(int)
        self.table: dict[bytes, bytes] = {}
        self.outputs: dict[str, list[bytes]] = defaultdict(list)
        self.runners: dict[int, PartitionRunner] = {}
        self.crashes = 0

    def produce(self, topic: str, key: bytes | None, value: bytes, partition: int) -> None:
        log = self.logs[(topic, partition)]
        log.append(
            Inbound(topic, partition, len(log), key, value, ref=(topic, partition, len(log)))
        )

    def runner(self, partition: int) -> PartitionRunner:
        if partition not in self.runners:
            states = [
                state_codec.decode(value)
                for key, value in self.table.items()
                if key.startswith(MEMBER_PREFIX)
                and partition_of(key[len(MEMBER_PREFIX) :].decode(), self.partitions) == partition
            ]
            self.runners[partition] = PartitionRunner(
                partition,
                self.partitions,
                self.program,
                self.names,
                states,
                self.table.get(runner_key(partition)),
                checkpoint_every=self.checkpoint_every or self.rng.choice([50, 500, 5000]),
                starts=dict.fromkeys([*self.names.inputs, self.names.exchange], 0),
            )
        return self.runners[partition]

    def crash(self, partition: int) -> None:
        """The worker of `partition` dies: unacked messages are delivered again."""
        self.crashes += 1
        self.runners.pop(partition, None)
        for tp in list(self.position):
            if tp[1] == partition:
                self.position[tp] = self.committed[tp]
                self.acked[tp] = {o for o in self.acked[tp] if o < self.committed[tp]}

    def perform(self, partition: int, effects: Effects, crash_rate: float) -> None:
        stage = 4
        if crash_rate and self.rng.random() < crash_rate:
            stage = self.rng.randrange(4)  # lost before sends, writes, acks or progress
        if stage >= 1:
            self._deliver(effects.sends)
        if stage >= 2:
            self.table.update(effects.writes)
        if stage >= 3:
            for topic, part, offset in effects.acks:
                tp = (topic, part)
                self.acked[tp].add(offset)
                while self.committed[tp] in self.acked[tp]:
                    self.committed[tp] += 1
        if stage >= 4:
            self._deliver(effects.after)
        else:
            self.crash(partition)

    def _deliver(self, sends: list[Any]) -> None:
        for send in sends:
            if send.topic == self.names.exchange:
                self.produce(send.topic, send.key, send.value, send.partition)
            else:
                self.outputs[send.topic].append(send.value)

    def run(self, crash_rate: float = 0.0, max_steps: int = 10_000_000) -> None:
        for _ in range(max_steps):
            ready = [tp for tp, log in self.logs.items() if self.position[tp] < len(log)]
            if not ready:
                return
            # Bursts from one source, like fetches: interleavings differ from run to run.
            tp = self.rng.choice(ready)
            for _ in range(self.rng.randint(1, 20)):
                if self.position[tp] >= len(self.logs[tp]):
                    break
                message = self.logs[tp][self.position[tp]]
                self.position[tp] += 1
                runner = self.runner(tp[1])
                effects = runner.receive(message)
                if self.rng.random() < self.timer_rate:  # the driver's timer
                    runner.checkpoint(effects)
                if effects:
                    self.perform(tp[1], effects, crash_rate)
                    if tp[1] not in self.runners:
                        break
        raise AssertionError("the cluster did not settle")


def stream(
    program: Program, lines: list[bytes], partitions: int, seed: int, crash_rate: float
) -> Cluster:
    cluster = Cluster(program, partitions, random.Random(seed))
    for out in file_messages(iter(lines), cluster.names, partitions):
        cluster.produce(out.topic, out.key, out.value, out.partition)
    for out in flush_messages(cluster.names, partitions, "end"):
        cluster.produce(out.topic, out.key, out.value, out.partition)
    cluster.run(crash_rate)
    return cluster


def compare(
    tmp_path: Path, program: Program, lines: list[bytes], cluster: Cluster, crashed: bool
) -> int:
    """Members equal; ledger and status changes equal as multisets without crashes. After a
    crash, outputs of the interrupted checkpoint are sent again (at least once; every record
    carries its deterministic id), so there each expected line must appear and nothing else."""
    source = tmp_path / "events.jsonl"
    source.write_bytes(b"".join(lines))
    replay(source, program, tmp_path / "replay", progress=False)
    expected_members = (tmp_path / "replay" / "members.jsonl").read_bytes().splitlines()
    states = sorted(
        (state_codec.decode(v) for k, v in cluster.table.items() if k.startswith(MEMBER_PREFIX)),
        key=lambda s: s.member_id,
    )
    got_members = [orjson.dumps(member_json(s, program)) for s in states]
    assert got_members == expected_members
    for name, topic in (
        ("ledger.jsonl", cluster.names.ledger),
        ("status_changes.jsonl", cluster.names.member_events),
    ):
        expected = _multiset((tmp_path / "replay" / name).read_bytes())
        got = _multiset(b"\n".join(cluster.outputs[topic]))
        if crashed:
            assert set(got) == set(expected), name
        else:
            assert got == expected, name
    return len(states)


def _multiset(raw: bytes) -> Counter[bytes]:
    return Counter(line for line in raw.splitlines() if line)


def workload(program: Program, members: int, events: int, seed: int) -> list[bytes]:
    return list(Workload(members, events, seed, program).lines())


@pytest.mark.parametrize("program_file", ["airline.yaml", "retail.yaml"])
@pytest.mark.parametrize("partitions", [1, 3])
def test_runners_equal_replay_under_any_interleaving(
    tmp_path: Path, program_file: str, partitions: int
) -> None:
    program = load_program(ROOT / "programs" / program_file)
    lines = workload(program, members=60, events=3000, seed=7)
    cluster = stream(program, lines, partitions, seed=partitions, crash_rate=0.0)
    assert compare(tmp_path, program, lines, cluster, crashed=False) > 30
    for runner in cluster.runners.values():
        assert runner.tally.reconciled, runner.tally


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_runners_equal_replay_through_crashes(tmp_path: Path, seed: int) -> None:
    program = load_program(ROOT / "programs" / "airline.yaml")
    lines = workload(program, members=40, events=2000, seed=seed)
    cluster = stream(program, lines, partitions=3, seed=seed, crash_rate=0.05)
    assert cluster.crashes > 5
    compare(tmp_path, program, lines, cluster, crashed=True)


def test_runners_grade_periods_without_clocks_like_replay(tmp_path: Path) -> None:
    # Clocks only every ~150 days: most grading periods end with no clock inside, and the
    # first clock comes long after the history started.
    program = load_program(ROOT / "programs" / "retail.yaml")
    lines = workload(program, members=60, events=3000, seed=5)
    clocks = [n for n, line in enumerate(lines) if b'"type":"clock"' in line]
    keep = set(clocks[150::150])
    sparse = [line for n, line in enumerate(lines) if n in keep or n not in set(clocks)]
    cluster = stream(program, sparse, partitions=3, seed=5, crash_rate=0.0)
    assert compare(tmp_path, program, sparse, cluster, crashed=False) > 30
    changes = (tmp_path / "replay" / "status_changes.jsonl").read_bytes()
    assert changes.count(b"class") > 0


@pytest.mark.parametrize(
    ("program_file", "partitions", "crash_rate"),
    [
        ("airline.yaml", 3, 0.0),
        ("retail.yaml", 3, 0.0),
        ("airline.yaml", 2, 0.05),
    ],
)
def test_runners_equal_replay_when_most_clocks_do_not_settle(
    tmp_path: Path, program_file: str, partitions: int, crash_rate: float
) -> None:
    """Clocks that do not settle pass time in each partition alone; transfers wait for the
    next settling clock (and grading for a period end) in the stream as in replay."""
    program = load_program(ROOT / "programs" / program_file)
    plain = workload(program, members=60, events=3000, seed=11)
    lines = list(settling_only_every(iter(plain), 7))
    assert sum(b"transfer_points" in line for line in lines) > 10
    cluster = stream(program, lines, partitions, seed=4, crash_rate=crash_rate)
    assert compare(tmp_path, program, lines, cluster, crashed=crash_rate > 0) > 30
    # The flag matters: transfer credits land later than with every clock settling.
    replay_file = tmp_path / "plain.jsonl"
    replay_file.write_bytes(b"".join(plain))
    replay(replay_file, program, tmp_path / "plain", progress=False)
    ledger = (tmp_path / "replay" / "ledger.jsonl").read_bytes()
    assert ledger != (tmp_path / "plain" / "ledger.jsonl").read_bytes()
