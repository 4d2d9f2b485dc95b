import pytest
from factories import record

from swe_selfplay.advantages import AdvantageSettings, compute_advantages
from swe_selfplay.batch import to_batch, training_row
from swe_selfplay.samples import parse_sample
from swe_selfplay.versions import VersionNames, sample_step, split_stale, versions_to_unload

names = VersionNames("qwen")


def samples(*specs):
    return [parse_sample(record(sample_id, role=role, group_id=group, reward=reward))
            for sample_id, role, group, reward in specs]


def test_solver_groups_are_normalised_and_zero_variance_groups_dropped():
    result = compute_advantages(samples(
        ("a-s0", "solver", "g1", 1.0), ("b-s0", "solver", "g1", -1.0),
        ("c-s0", "solver", "g2", 1.0), ("d-s0", "solver", "g2", 1.0),
    ))
    advantages = {sample.sample_id: value for sample, value in result.kept}
    assert advantages["a-s0"] == pytest.approx(1.0, abs=1e-5)
    assert advantages["b-s0"] == pytest.approx(-1.0, abs=1e-5)
    assert "c-s0" not in advantages
    assert (result.dropped_groups, result.dropped_samples) == (1, 2)


def test_an_episode_split_into_samples_counts_once_and_shares_its_advantage():
    # Episode a has three samples (prefix breaks), b and c one each: by episode the rewards are 1, -1, -1.
    result = compute_advantages(samples(
        ("a-s0", "solver", "g", 1.0), ("a-s1", "solver", "g", 1.0), ("a-s2", "solver", "g", 1.0),
        ("b-s0", "solver", "g", -1.0), ("c-s0", "solver", "g", -1.0),
    ), AdvantageSettings(normalise_std=False))
    advantages = {sample.sample_id: value for sample, value in result.kept}
    assert [round(advantages[name], 4) for name in ("a-s0", "a-s1", "a-s2")] == [1.3333] * 3
    assert round(advantages["b-s0"], 4) == round(advantages["c-s0"], 4) == -0.6667
    # Two episodes of one reward, one of them split in two: still zero variance, all three samples dropped.
    uniform = compute_advantages(samples(("a-s0", "solver", "g", 1.0), ("a-s1", "solver", "g", 1.0),
                                         ("b-s0", "solver", "g", 1.0)))
    assert (uniform.dropped_groups, uniform.dropped_samples, uniform.kept) == (1, 3, [])


def test_proposers_compare_across_the_batch_by_default_and_per_group_on_request():
    specs = (("p1-s0", "proposer", "s1", 0.2), ("p2-s0", "proposer", "s2", -0.8), ("p3-s0", "proposer", "s3", 0.5))
    batch = compute_advantages(samples(*specs))
    assert len(batch.kept) == 3
    assert sum(value for _, value in batch.kept) == pytest.approx(0.0, abs=1e-6)
    per_group = compute_advantages(samples(*specs), AdvantageSettings(proposer_grouping="group"))
    assert per_group.kept == [] and per_group.dropped_groups == 3


def test_without_std_normalisation_advantages_are_centred_rewards():
    result = compute_advantages(samples(("a-s0", "solver", "g", 1.0), ("b-s0", "solver", "g", -1.0),
                                        ("c-s0", "solver", "g", -1.0)), AdvantageSettings(normalise_std=False))
    assert [round(value, 4) for _, value in result.kept] == [1.3333, -0.6667, -0.6667]


def test_without_a_baseline_rewards_are_the_advantages_even_in_uniform_groups():
    result = compute_advantages(samples(("a-s0", "solver", "g", -1.0), ("b-s0", "solver", "g", -1.0)),
                                AdvantageSettings(baseline="none"))
    assert [value for _, value in result.kept] == [-1.0, -1.0] and result.dropped_groups == 0


def test_version_names_round_trip():
    assert names.name(0) == "qwen" and names.name(3) == "policy-v3"
    assert names.step_of("policy-v3") == 3 and names.step_of("qwen") == 0 and names.step_of("other") is None
    with pytest.raises(ValueError):
        names.name(-1)


def test_a_sample_is_as_old_as_its_oldest_turn():
    mixed = parse_sample(record(policy_version="policy-v3", turn_models=["policy-v2", "policy-v3"]))
    assert mixed.spans_versions
    assert sample_step(mixed, names) == 2
    unknown_turns = parse_sample(record(policy_version="custom", turn_models=["custom"], policy_step=4))
    assert sample_step(unknown_turns, names) == 4


def test_samples_older_than_the_staleness_bound_are_split_off():
    batch = [parse_sample(record(f"{version}-s0", policy_version=version))
             for version in ("qwen", "policy-v1", "policy-v2", "policy-v3")]
    batch.append(parse_sample(record("mystery-s0", policy_version="mystery")))
    fresh, stale = split_stale(batch, current_step=3, names=names, staleness=2)
    assert [sample.policy_version for sample in fresh] == ["policy-v1", "policy-v2", "policy-v3"]
    assert [sample.policy_version for sample in stale] == ["qwen", "mystery"]
    assert versions_to_unload([1, 2, 3, 4], current_step=4, staleness=2) == [1]
    assert versions_to_unload([1, 2], current_step=2, staleness=2) == []


def test_the_batch_pads_and_carries_every_field():
    short = parse_sample(record("a-s0", prompt=2, sampled=1, reward=1.0))
    long = parse_sample(record("b-s0", prompt=3, sampled=3, reward=-1.0, group_id="g2", policy_version="policy-v1"))
    batch = to_batch([training_row(short, 0.5), training_row(long, -0.5)])
    assert len(batch.tokens[0]) == len(batch.tokens[1]) == 7
    assert batch.attention_mask[0] == [1, 1, 1, 1, 0, 0, 0]
    assert batch.loss_mask[0] == [0, 0, 1, 0, 0, 0, 0]
    assert batch.old_logprobs[1][3:6] == [-0.5, -0.5, -0.5]
    assert batch.rewards == [1.0, -1.0] and batch.advantages == [0.5, -0.5]
    assert batch.group_ids == ["g1", "g2"] and batch.versions == ["base", "policy-v1"]
    tensors = pytest.importorskip("torch") and batch.as_tensors()
    assert tuple(tensors["input_ids"].shape) == (2, 7)
