import { describe, expect, it } from "vitest";
import { replacementsOf } from "./replacements.js";

const text = "def a():\n    return 1\n\n\ndef b():\n    return 1\n\n\ndef c():\n    return 2\n";

const diff = `diff --git a/m.py b/m.py
--- a/m.py
+++ b/m.py
@@ -4,6 +4,6 @@ def a():
 
 def b():
-    return 1
+    return 0
 
 
 def c():
@@ -9,2 +9,0 @@ def b():
-def c():
-    return 2
`;

describe("replacementsOf", () => {
  it("writes each hunk as the smallest unique str_replace, widened by context until unique", () => {
    const edits = replacementsOf(diff, new Map([["m.py", text]]));
    expect(edits).toEqual([
      // "    return 1" occurs twice: one line of context above makes it unique.
      { path: "m.py", oldText: "def b():\n    return 1", newText: "def b():\n    return 0" },
      // Removed lines take their line ends with them.
      { path: "m.py", oldText: "def c():\n    return 2\n", newText: "" },
    ]);
  });

  it("refuses what edits cannot write: an unknown file, a hunk that is nowhere", () => {
    expect(replacementsOf(diff, new Map())).toBeNull();
    expect(replacementsOf(diff, new Map([["m.py", "x = 1\n"]]))).toBeNull();
  });
});
