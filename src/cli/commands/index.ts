// Every command module registers itself on the program; each module owns one command group.
import type { Command } from "commander";
import { register as registerEval } from "./eval.js";
import { register as registerExport } from "./export.js";
import { register as registerImages } from "./images.js";
import { register as registerPropose } from "./propose.js";
import { register as registerRun } from "./run.js";
import { register as registerSandbox } from "./sandbox.js";
import { register as registerServe } from "./serve.js";
import { register as registerSolve } from "./solve.js";
import { register as registerUi } from "./ui.js";
import { register as registerValidate } from "./validate.js";

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
