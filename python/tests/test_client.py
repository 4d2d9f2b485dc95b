import pytest
from factories import StandInService

from swe_selfplay.client import ReplicaPool, RetryPolicy, ServiceClient, StepRequest, load
from swe_selfplay.errors import ServiceRequestError, ServiceUnavailable, StepFailed
from swe_selfplay.rollout_stage import RolloutSettings, collect


@pytest.fixture
def service():
    server = StandInService()
    yield server
    server.close()


def no_sleep(_):
    return None


def request(request_id="r1", version="base"):
    return StepRequest(request_id=request_id, inference={"kind": "vllm", "base_url": "http://x/v1", "model": version},
                       policy_version=version, policy_step=0, group_size=2)


def test_a_step_is_requested_once_per_request_id_and_waited_for(service):
    client = ServiceClient(service.url, sleep=no_sleep)
    first = client.request_step(request())
    again = client.request_step(request())
    assert first.step_id == again.step_id
    assert len(service.steps) == 1
    done = client.wait_step(first.step_id, timeout_s=10)
    assert done.status == "done" and done.result["solve_rate"] == 0.5
    assert service.posts[0]["policy_step"] == 0 and "seed" not in service.posts[0]
    events = list(client.events(first.step_id))
    assert [event for event, _ in events] == ["progress", "done"]
    client.ack(first.step_id)
    assert service.acked == [first.step_id]


def test_a_bad_request_names_the_field(service):
    client = ServiceClient(service.url, sleep=no_sleep)
    with pytest.raises(ServiceRequestError) as caught:
        client._call("POST", "/v1/steps", {"request_id": 5})
    assert caught.value.status == 400 and caught.value.path == "/request_id"


def test_a_failed_step_raises_with_the_reason():
    service = StandInService(fail_requests={"bad"})
    try:
        client = ServiceClient(service.url, sleep=no_sleep)
        view = client.request_step(request("bad"))
        with pytest.raises(StepFailed, match="proposer episode failed"):
            client.wait_step(view.step_id, timeout_s=10)
    finally:
        service.close()


def test_a_full_queue_is_retried_after_retry_after():
    service = StandInService(capacity=1)
    try:
        slept = []
        client = ServiceClient(service.url, retry=RetryPolicy(attempts=3), sleep=slept.append)
        client.request_step(request("one"))
        with pytest.raises(ServiceUnavailable, match="HTTP 429"):
            client.request_step(request("two"))
        assert service.rejections == 3 and slept == [0.0, 0.0]
    finally:
        service.close()


def test_a_service_that_vanishes_is_retried_then_reported():
    service = StandInService()
    client = ServiceClient(service.url, retry=RetryPolicy(attempts=4), sleep=no_sleep)
    view = client.request_step(request())
    service.close()
    with pytest.raises(ServiceUnavailable) as caught:
        client.wait_step(view.step_id, timeout_s=10)
    assert caught.value.attempts == 4 and service.url in str(caught.value)


def test_the_pool_balances_on_stats_and_skips_a_dead_replica():
    busy, idle = StandInService(capacity=10), StandInService(capacity=10)
    busy.in_flight = 8
    dead = ServiceClient("http://127.0.0.1:9", retry=RetryPolicy(attempts=1), sleep=no_sleep)
    try:
        pool = ReplicaPool([ServiceClient(busy.url, sleep=no_sleep), dead, ServiceClient(idle.url, sleep=no_sleep)])
        view = pool.request_step(request())
        assert view.replica == idle.url
        assert pool.wait_step(view, timeout_s=10).status == "done"
    finally:
        busy.close()
        idle.close()
    assert load({"queue": {"depth": 2, "capacity": 8}, "in_flight": 2}) == 0.5


def test_an_iteration_collects_every_step_and_counts_failures():
    service = StandInService(fail_requests={"t-i1-s1"})
    try:
        pool = ReplicaPool([ServiceClient(service.url, sleep=no_sleep)])
        settings = RolloutSettings(inference={"kind": "vllm", "base_url": "http://v/v1"}, steps_per_iteration=3,
                                   run_name="t", solver_only=True)
        batch = collect(pool, settings, iteration=1, model="policy-v2", step=2)
        assert len(batch.steps) == 2 and len(batch.failed_steps) == 1
        assert len(batch.samples) == 6
        assert batch.solve_rates == [0.5, 0.5] and batch.valid_share == 1.0
        post = service.posts[0]
        assert post["inference"] == {"kind": "builtin"}
        assert post["solver_inference"]["model"] == "policy-v2" and post["policy_step"] == 2
        assert sorted(p["request_id"] for p in service.posts) == ["t-i1-s0", "t-i1-s1", "t-i1-s2"]
    finally:
        service.close()


def test_an_iteration_whose_service_vanishes_is_retried_then_reported():
    service = StandInService(vanish_after_posts=2)
    pool = ReplicaPool([ServiceClient(service.url, retry=RetryPolicy(attempts=3), sleep=no_sleep)])
    settings = RolloutSettings(inference={"kind": "vllm", "base_url": "http://v/v1"}, steps_per_iteration=2)
    with pytest.raises(ServiceUnavailable) as caught:
        collect(pool, settings, iteration=4, model="policy-v3", step=3)
    assert caught.value.attempts == 3 and "/v1/steps/step-" in caught.value.url
