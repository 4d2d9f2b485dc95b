import json
import math

import pytest
from factories import record

from swe_selfplay.errors import RolloutDirectoryError, SampleError
from swe_selfplay.rollouts import RolloutDirectory, read_rollouts, read_step
from swe_selfplay.samples import parse_sample, parse_samples


def test_a_sound_record_parses_with_its_turn_versions():
    sample = parse_sample(record(turn_models=["base", "policy-v1"]))
    assert sample.sampled_tokens == 2
    assert sample.turn_versions == ["base", "policy-v1"]
    assert sample.spans_versions


def test_mismatched_lengths_are_refused_with_the_sample_id():
    broken = record("ep7-s0")
    broken["loss_mask"] = broken["loss_mask"][:-1]
    with pytest.raises(SampleError) as caught:
        parse_sample(broken)
    assert caught.value.sample_id == "ep7-s0"
    assert "lengths differ: 6 tokens, 5 loss_mask, 6 logprobs" in str(caught.value)


def test_nan_logprobs_are_refused_with_the_sample_id():
    broken = record("ep8-s0")
    broken["logprobs"][3] = math.nan
    with pytest.raises(SampleError, match=r"sample ep8-s0: logprobs\[3\] is nan, not a finite number"):
        parse_sample(broken)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"prompt_len": 99}, "prompt_len 99 is outside 0..6"),
        ({"reward": None}, "reward is missing"),
        ({"role": "critic"}, "role is 'critic'"),
        ({"schema": "rollout.v0"}, "schema is 'rollout.v0'"),
        ({"logprobs": [0, 0, 0, 0.5, -0.5, 0]}, "logprobs[3] is 0.5, a log-probability above 0"),
        ({"logprobs": [0, -1, 0, -0.5, -0.5, 0]}, "logprobs[1] is -1 where loss_mask is 0"),
        ({"loss_mask": [1, 0, 0, 1, 1, 0], "logprobs": [-1, 0, 0, -0.5, -0.5, 0]}, "loss_mask[0] is 1 inside the prompt"),
    ],
)
def test_each_broken_invariant_is_named(change, message):
    broken = record()
    broken.update(change)
    with pytest.raises(SampleError) as caught:
        parse_sample(broken)
    assert message in str(caught.value)


def test_parse_samples_keeps_the_good_and_lists_the_refused():
    bad = record("bad-s0")
    bad["tokens"] = bad["tokens"][:2]
    good, refused = parse_samples([record("a-s0"), bad, record("b-s0")])
    assert [sample.sample_id for sample in good] == ["a-s0", "b-s0"]
    assert [error.sample_id for error in refused] == ["bad-s0"]


def write_step(root, step, records):
    import hashlib

    directory = root / "rollouts" / f"step_{step:06d}"
    directory.mkdir(parents=True)
    content = "".join(json.dumps(item) + "\n" for item in records).encode()
    (directory / "part-00000.jsonl").write_bytes(content)
    manifest = {"schema": "rollout.v1", "run_id": "run-1", "step": step, "records": len(records),
                "files": [{"name": "part-00000.jsonl", "records": len(records), "bytes": len(content),
                           "sha256": hashlib.sha256(content).hexdigest()}], "created_at": "now"}
    (directory / "_DONE").write_text(json.dumps(manifest))
    return directory


def test_the_reader_follows_finished_steps_in_order(tmp_path):
    write_step(tmp_path, 2, [record("b-s0")])
    write_step(tmp_path, 1, [record("a-s0"), record("a2-s0")])
    unfinished = tmp_path / "rollouts" / "step_000003"
    unfinished.mkdir()
    (unfinished / "part-00000.jsonl").write_text(json.dumps(record("c-s0")) + "\n")
    steps = list(read_rollouts(tmp_path))
    assert [step.step for step in steps] == [1, 2]
    assert [sample.sample_id for sample in steps[0].samples] == ["a-s0", "a2-s0"]
    follower = RolloutDirectory(tmp_path)
    assert [step.step for step in follower.new_steps()] == [1, 2]
    assert follower.new_steps() == []
    write_step(tmp_path, 4, [record("d-s0")])
    assert [step.step for step in follower.new_steps()] == [4]


def test_a_tampered_part_file_is_an_error_naming_it(tmp_path):
    directory = write_step(tmp_path, 1, [record("a-s0")])
    (directory / "part-00000.jsonl").write_text(json.dumps(record("z-s0")) + "\n")
    with pytest.raises(RolloutDirectoryError, match="part-00000.jsonl: sha256 differs"):
        read_step(directory)


def test_a_broken_record_in_a_step_is_refused_not_fatal(tmp_path):
    bad = record("bad-s0")
    bad["logprobs"] = bad["logprobs"][:1]
    step = read_step(write_step(tmp_path, 1, [record("a-s0"), bad]))
    assert [sample.sample_id for sample in step.samples] == ["a-s0"]
    assert step.refused[0].sample_id == "bad-s0"
