// The artifact's file I/O, apart from the pure format in src/artifact/: artifact directories on disk and
// SWE-bench instances with the problem-statement template that ships as a file.
export { type ReadArtifactOptions, readArtifactDir, writeArtifactDir } from "./artifact-dir.js";
export { toSweBenchInstance } from "./swebench.js";
