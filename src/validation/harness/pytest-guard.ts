// The pytest guard: a plugin the run loads into every pytest process of test_script.sh (PYTEST_PLUGINS, the
// module in the private directory), which
// - writes what pytest itself ran, test by test, to a result channel the harness owns (a file in the private
//   directory, read back after the script, never the process's stdout): a parse that reports passes pytest
//   did not record is a forged report;
// - plants two canaries inside the runner at collection time (one must fail, one must pass), under random
//   names from its private configuration: no test file holds them, so a child process, a static reader of
//   the test files or `git status` cannot know their names or outcomes;
// - plants randomly named twins of the given tests (grading: the F2P tests), running the same function,
//   whose results must agree with the originals': code that rewrites the results of tests it knows by name
//   leaves the twins alone.
// The plugin removes its own variables from the environment as it loads, so processes the tests start run
// without it. Code in the same process that sets out to find the guard itself is beyond it (DESIGN §4).
import type { TestResults, TestStatus } from "../../ports/validation.js";
import { randomToken } from "./canaries.js";

export const PYTEST_GUARD_MODULE = "_swe_selfplay_guard";
const CONFIG_VARIABLE = "SWE_SELFPLAY_GUARD";

const PLUGIN = String.raw`"""Records what pytest runs and plants canaries and twins at collection (see pytest-guard.ts)."""
import json
import os

import pytest

_config_path = os.environ.pop("${CONFIG_VARIABLE}", None)
_others = [name for name in os.environ.get("PYTEST_PLUGINS", "").split(",") if name.strip() not in ("", __name__)]
if _others:
    os.environ["PYTEST_PLUGINS"] = ",".join(_others)
else:
    os.environ.pop("PYTEST_PLUGINS", None)

_config = {}
if _config_path:
    try:
        with open(_config_path) as _file:
            _config = json.load(_file)
    except (OSError, ValueError):
        _config = {}
_channel = None


def _record(event):
    global _channel
    path = _config.get("channel")
    if not path:
        return
    try:
        if _channel is None:
            # No O_CREAT: a channel the run removed stays removed.
            _channel = os.open(path, os.O_WRONLY | os.O_APPEND)
        os.write(_channel, (json.dumps(event) + "\n").encode())
    except OSError:
        pass


_record({"event": "load", "pid": os.getpid()})


def _canary(got, want):
    def check():
        if got != want:
            raise AssertionError("got %r, want %r" % (got, want))

    return check


def _twin(item, name):
    parent = item.parent
    holder = getattr(parent, "obj", None)
    function = getattr(item, "function", None)
    original = getattr(item, "originalname", None) or item.name
    if holder is None or function is None or not item.name.startswith(original):
        return None
    setattr(holder, name, function)
    options = {"name": name + item.name[len(original):]}
    if type(item) is pytest.Function:
        options["originalname"] = name
        options["fixtureinfo"] = item._fixtureinfo
        if getattr(item, "callspec", None) is not None:
            options["callspec"] = item.callspec
    return type(item).from_parent(parent, **options)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    canaries = _config.get("canaries")
    if canaries and items:
        module = items[len(items) // 2].getparent(pytest.Module)
        if module is not None:
            got, other = canaries["values"]
            planted = []
            for name, want in ((canaries["failing"], other), (canaries["passing"], got)):
                canary = pytest.Function.from_parent(module, name=name, callobj=_canary(got, want))
                items.insert(len(items) // 2, canary)
                planted.append(canary.nodeid)
            _record({"event": "canaries", "ids": planted})
    twins = _config.get("twins")
    if twins:
        wanted = set(twins["ids"])
        for index, item in enumerate(list(items)):
            if item.nodeid not in wanted:
                continue
            try:
                twin = _twin(item, "%s%d" % (twins["stem"], index))
            except Exception as error:
                _record({"event": "twin-failed", "of": item.nodeid, "why": repr(error)[:200]})
                continue
            if twin is not None:
                items.insert(items.index(item) + 1, twin)
                _record({"event": "twin", "of": item.nodeid, "id": twin.nodeid})


def pytest_runtest_logreport(report):
    if report.when == "call" or report.outcome != "passed":
        _record({"event": "report", "id": report.nodeid, "when": report.when, "outcome": report.outcome})
`;

/** Which of the guard's parts a run uses. */
export interface PytestGuardParts {
  channel: boolean;
  canaries: boolean;
  /** Test ids (as the parser reports them, pytest node ids) to plant twins of. */
  twins: readonly string[];
}

export interface PytestGuardPlan {
  /** Files the run writes into the private directory before the script. */
  files: { path: string; content: string }[];
  /** Shell lines run before the script, in the script's shell. */
  setup: string;
  channelPath: string;
  /** Whether the channel's records are judged (the channel also carries canaries and twins). */
  hasChannel: boolean;
  canaries: { failing: string; passing: string } | null;
  twinStem: string | null;
}

/** The plugin, its configuration and the environment that loads it, for one run. */
export function planPytestGuard(
  privateDir: string,
  parts: PytestGuardParts,
  token: () => string = randomToken,
): PytestGuardPlan {
  const directory = `${privateDir}/guard`;
  const channelPath = `${directory}/channel-${token()}.jsonl`;
  const configPath = `${directory}/config-${token()}.json`;
  const canaries = parts.canaries ? { failing: `test_${token()}`, passing: `test_${token()}` } : null;
  const twinStem = parts.twins.length > 0 ? `test_${token()}` : null;
  const first = 100 + Math.floor(Math.random() * 800);
  const config = {
    channel: parts.channel || canaries || twinStem ? channelPath : null,
    canaries: canaries && { ...canaries, values: [first, first + 1 + Math.floor(Math.random() * 50)] },
    twins: twinStem && { stem: twinStem, ids: parts.twins },
  };
  const setup = [
    `: > ${channelPath}`,
    `export ${CONFIG_VARIABLE}=${configPath}`,
    `export PYTEST_PLUGINS="${PYTEST_GUARD_MODULE}\${PYTEST_PLUGINS:+,$PYTEST_PLUGINS}"`,
    `export PYTHONPATH="${directory}\${PYTHONPATH:+:$PYTHONPATH}"`,
    "",
  ].join("\n");
  return {
    files: [
      { path: `${directory}/${PYTEST_GUARD_MODULE}.py`, content: PLUGIN },
      { path: configPath, content: JSON.stringify(config) },
    ],
    setup,
    channelPath,
    hasChannel: parts.channel,
    canaries,
    twinStem,
  };
}

/** What the channel says pytest ran. */
export interface ChannelRecord {
  /** Processes that loaded the guard. */
  loads: number;
  /** Each reported node id's status, the worst over its phases and sessions. */
  statuses: Map<string, TestStatus>;
  canaries: string[];
  twins: { of: string; id: string }[];
}

const RANK: Record<TestStatus, number> = { passed: 0, skipped: 1, failed: 2, error: 3 };

/** Reads the channel's JSON lines (a line the run garbled is skipped). */
export function readChannel(text: string): ChannelRecord {
  const record: ChannelRecord = { loads: 0, statuses: new Map(), canaries: [], twins: [] };
  for (const line of text.split("\n")) {
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (typeof event !== "object" || event === null) continue;
    if (event.event === "load") record.loads++;
    else if (event.event === "canaries" && Array.isArray(event.ids))
      record.canaries.push(...event.ids.map(String));
    else if (event.event === "twin") record.twins.push({ of: String(event.of), id: String(event.id) });
    else if (event.event === "report" && typeof event.id === "string") {
      const outcome = String(event.outcome);
      const status: TestStatus =
        outcome === "passed"
          ? "passed"
          : outcome === "skipped"
            ? "skipped"
            : event.when === "call"
              ? "failed"
              : "error";
      const known = record.statuses.get(event.id);
      if (known === undefined || RANK[status] > RANK[known]) record.statuses.set(event.id, status);
    }
  }
  return record;
}

/**
 * A message when the parse claims what pytest did not run (per id, and in number of passes), else null.
 * `counted`: whether the output is pytest's alone, so every parsed pass must be one pytest recorded.
 */
export function judgeChannel(results: TestResults, channel: ChannelRecord, counted: boolean): string | null {
  if (channel.loads === 0) return null;
  const passed = Object.keys(results).filter((id) => results[id] === "passed");
  const contradicted = passed.find((id) => {
    const status = channel.statuses.get(id);
    return status !== undefined && status !== "passed";
  });
  if (contradicted !== undefined)
    return `test_parser.py reports ${contradicted} passed, but pytest recorded it ${channel.statuses.get(contradicted)} (the harness's own record of the run)`;
  if (!counted) return null;
  const recorded = [...channel.statuses.values()].filter((status) => status === "passed").length;
  if (passed.length <= recorded) return null;
  return `test_parser.py reports ${passed.length} passing tests, but pytest recorded ${recorded} passes (the harness's own record of the run): the report did not come from the runner`;
}

/** A message when the in-process canaries pytest planted were not reported as planted, else null. */
export function judgeProcessCanaries(
  results: TestResults,
  channel: ChannelRecord,
  canaries: { failing: string; passing: string } | null,
): string | null {
  // A run that reports no pass (a collection error stops pytest before any test) claims nothing to vouch for.
  const passes = Object.values(results).filter((status) => status === "passed").length;
  if (canaries === null || channel.loads === 0 || passes === 0) return null;
  if (channel.canaries.length === 0) {
    return `pytest loaded the harness's guard but never got through collection to plant its canaries, yet ${passes} test(s) are reported passed: the report does not describe this run`;
  }
  const find = (name: string) => Object.keys(results).filter((id) => id.includes(name));
  const failing = find(canaries.failing);
  const passing = find(canaries.passing);
  const fine =
    failing.length > 0 &&
    failing.every((id) => results[id] === "failed" || results[id] === "error") &&
    passing.length > 0 &&
    passing.every((id) => results[id] === "passed");
  if (fine) return null;
  const show = (ids: string[]) =>
    ids.length === 0 ? "not reported" : ids.map((id) => results[id]).join("/");
  return `the canaries pytest planted at collection were not reported as planted (failing canary ${show(failing)}, passing canary ${show(passing)}): the report does not describe this run`;
}

/** A message when a twin's result disagrees with its original's, else null. */
export function judgeTwins(results: TestResults, channel: ChannelRecord): string | null {
  for (const { of, id } of channel.twins) {
    const original = results[of];
    const twin = results[id] ?? channel.statuses.get(id);
    if (original === undefined || twin === undefined) continue;
    if ((original === "passed") !== (twin === "passed"))
      return `${of} was reported ${original}, but its randomly named twin running the same test ${twin}: results are rewritten by test name`;
  }
  return null;
}

/** The results without the guard's canaries and twins. */
export function withoutGuardTests(results: TestResults, plan: PytestGuardPlan | null): TestResults {
  if (plan === null) return results;
  const tokens = [plan.canaries?.failing, plan.canaries?.passing, plan.twinStem].filter(
    (token): token is string => token !== undefined && token !== null,
  );
  if (tokens.length === 0) return results;
  return Object.fromEntries(
    Object.entries(results).filter(([id]) => !tokens.some((token) => id.includes(token))),
  );
}
