// Go modules (go.mod with *_test.go files) and Cargo packages (Cargo.toml with #[test] functions or
// files under tests/).
import type { Detection, Probe } from "./probe.js";

async function toolWorks(probe: Probe, command: string): Promise<boolean> {
  const result = await probe.run(command);
  return result.status === "exited" && result.exitCode === 0;
}

/** Where the sandbox looked for a tool, so a toolchain installed elsewhere can be put on that PATH. */
async function searchedPath(probe: Probe): Promise<string> {
  const result = await probe.run('printf %s "$PATH"');
  return result.status === "exited" && result.stdout.trim() !== "" ? result.stdout.trim() : "(unknown)";
}

export async function detectGo(probe: Probe): Promise<Detection | null> {
  if (!probe.has("go.mod")) return null;
  const testFiles = probe.files.filter(
    (path) => path.endsWith("_test.go") && !/(^|\/)(vendor|testdata)\//.test(path),
  );
  if (testFiles.length === 0) return null;
  if (!(await toolWorks(probe, "go version"))) {
    return {
      status: "unusable",
      framework: "go",
      reason: `the repository has Go tests but the go tool is not installed (not on the sandbox's PATH ${await searchedPath(probe)})`,
    };
  }
  return {
    status: "usable",
    framework: "go",
    language: "go",
    plan: { framework: "go", workdir: probe.sandbox.workdir },
    testFiles,
  };
}

export async function detectRust(probe: Probe): Promise<Detection | null> {
  if (!probe.has("Cargo.toml")) return null;
  const rustFiles = probe.files.filter((path) => path.endsWith(".rs") && !/(^|\/)target\//.test(path));
  // Integration tests are test files by location; unit tests by their #[test] attributes.
  const integration = rustFiles.filter((path) => /(^|\/)tests\/.*\.rs$/.test(path));
  const withUnitTests = await probe.filesContaining(
    "#\\[[[:space:]]*([[:alnum:]_]+::)*test[[:space:]]*\\]",
    rustFiles.filter((path) => !integration.includes(path)),
  );
  const testFiles = [...integration, ...withUnitTests].sort();
  if (testFiles.length === 0) return null;
  if (!(await toolWorks(probe, "cargo --version"))) {
    return {
      status: "unusable",
      framework: "cargo",
      reason: `the repository has Rust tests but cargo is not installed (not on the sandbox's PATH ${await searchedPath(probe)})`,
    };
  }
  return {
    status: "usable",
    framework: "cargo",
    language: "rust",
    plan: { framework: "cargo", workdir: probe.sandbox.workdir },
    testFiles,
  };
}
