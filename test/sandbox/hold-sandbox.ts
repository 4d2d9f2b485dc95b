// Child process for lifecycle tests: creates one local sandbox, prints where it lives, then holds it
// ("hold"), exits at once ("exit"), runs a command that never ends ("run", marker as 4th argument), or
// reports a creation error as JSON ("create"); "graceful" holds it under a SIGTERM handler of its own,
// registered before any sandbox, that closes the backend after a while and exits 0 (as `serve` does).
import { createLocalBackend } from "../../src/sandbox/local/backend.js";

const [mode, runtimeDirectory, environment, marker] = process.argv.slice(2);
try {
  const backend = createLocalBackend({ runtimeDirectory });
  if (mode === "graceful") {
    process.once("SIGTERM", () => {
      setTimeout(() => {
        void backend.close().then(() => process.exit(0));
      }, 300);
    });
  }
  const sandbox = await backend.create({ environment: { kind: "dir", path: environment! }, label: "hold" });
  process.stdout.write(`${JSON.stringify({ id: sandbox.id, workspace: sandbox.workspacePath })}\n`);
  if (mode === "exit") process.exit(0);
  if (mode === "hold" || mode === "graceful") setInterval(() => {}, 1000);
  if (mode === "run") await sandbox.run({ command: `sh -c 'sleep 1000 & sleep 1000' ${marker}` });
} catch (error) {
  const failure = error as { name?: string; code?: string; message?: string };
  process.stdout.write(
    `${JSON.stringify({ error: { name: failure.name, code: failure.code, message: failure.message } })}\n`,
  );
  process.exitCode = 3;
}
