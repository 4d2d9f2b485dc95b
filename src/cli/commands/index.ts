// Every command registers its flags and help on the program from src/cli/definitions/; its implementation
// here loads only when the command runs, so `--help` and flag errors load neither it nor the adapters.
// (`images` needs no adapter: its flags and implementation stay in one module.)
import type { Command } from "commander";
import { register as registerEval } from "../definitions/eval.js";
import { register as registerExport } from "../definitions/export.js";
import { register as registerPropose } from "../definitions/propose.js";
import { register as registerRun } from "../definitions/run.js";
import { register as registerSandbox } from "../definitions/sandbox.js";
import { register as registerServe } from "../definitions/serve.js";
import { register as registerSolve } from "../definitions/solve.js";
import { register as registerUi } from "../definitions/ui.js";
import { register as registerValidate } from "../definitions/validate.js";
import { register as registerImages } from "./images.js";

export function registerCommands(program: Command): void {
  for (const register of [
    registerRun,
    registerPropose,
    registerSolve,
    registerValidate,
    registerExport,
    registerEval,
    registerSandbox,
    registerImages,
    registerUi,
    registerServe,
  ]) {
    register(program);
  }
}
