// The trainer's Python (scripts/prepare-trainer.sh: a venv over vLLM's torch with peft, pytest and verl).
// Required in CI and with REQUIRE_VLLM=1; elsewhere the tests that need it say why they skip.
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** Where scripts/prepare-trainer.sh left the trainer's Python, or why it is not there. */
export function findTrainerPython(env: NodeJS.ProcessEnv = process.env): string | { missing: string } {
  if (env.SWE_SELFPLAY_TRAINER_PYTHON) return env.SWE_SELFPLAY_TRAINER_PYTHON;
  const cache =
    env.SWE_SELFPLAY_CACHE ?? join(env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "swe-selfplay");
  const envFile = join(cache, "trainer.env");
  if (!existsSync(envFile))
    return { missing: `no prepared trainer (run scripts/prepare-trainer.sh; looked for ${envFile})` };
  const line = readFileSync(envFile, "utf8")
    .split("\n")
    .find((entry) => entry.startsWith("SWE_SELFPLAY_TRAINER_PYTHON="));
  const python = line?.slice(line.indexOf("=") + 1);
  if (!python || !existsSync(python))
    return { missing: `the trainer python ${python} is missing (run scripts/prepare-trainer.sh again)` };
  return python;
}
