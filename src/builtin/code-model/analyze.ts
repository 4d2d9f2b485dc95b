// Parses source text with tree-sitter (grammars loaded once, then cached) into a SourceAnalysis.
import type { SourceAnalysis, SourceFile, SourceLanguage } from "./types.js";

/** Loads the grammars (all supported ones by default) so that later analyses pay no loading cost. */
export async function loadGrammars(languages?: readonly SourceLanguage[]): Promise<void> {
  void languages;
}

/** Functions, statements, expressions and test cases of one file; null when no grammar reads its language. */
export async function analyzeSource(file: SourceFile): Promise<SourceAnalysis | null> {
  void file;
  throw new Error("analyzeSource: not implemented yet");
}

/** analyzeSource over many files, skipping those no grammar reads. */
export async function analyzeSources(files: readonly SourceFile[]): Promise<SourceAnalysis[]> {
  const analyses: SourceAnalysis[] = [];
  for (const file of files) {
    const analysis = await analyzeSource(file);
    if (analysis) analyses.push(analysis);
  }
  return analyses;
}
