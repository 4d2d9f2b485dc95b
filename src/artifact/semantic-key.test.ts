import { describe, expect, it } from "vitest";
import { normalisedBug, semanticKey } from "./semantic-key.js";

function diff(body: string, section = " def total(items):"): string {
  const lines = body.split("\n").filter((line) => line !== "");
  const before = lines.filter((line) => !line.startsWith("+")).length;
  const after = lines.filter((line) => !line.startsWith("-")).length;
  return `diff --git a/shop/cart.py b/shop/cart.py\n--- a/shop/cart.py\n+++ b/shop/cart.py\n@@ -10,${before} +10,${after} @@${section}\n${body}`;
}

const ORIGINAL = diff(
  "     subtotal = sum(items)\n-    result = subtotal * 2\n-    return result\n+    result = subtotal * 3\n+    return result\n",
);

describe("semanticKey", () => {
  it("is the same for the same bug with other whitespace, comments, context and local names", () => {
    const respaced = `diff --git a/shop/cart.py b/shop/cart.py\n--- a/shop/cart.py\n+++ b/shop/cart.py\n@@ -11,2 +11,2 @@ def total(items):\n-    result = subtotal*2\n-    return result\n+    result   =   subtotal *   3  # off by one\n+    return result\n`;
    const renamed = diff(
      "     subtotal = sum(items)\n-    doubled = subtotal * 2\n-    return doubled\n+    tripled = subtotal * 3\n+    return tripled\n",
    );
    expect(semanticKey(respaced)).toBe(semanticKey(ORIGINAL));
    expect(semanticKey(renamed)).toBe(semanticKey(ORIGINAL));
  });

  it("differs for another edit, another function or another file, and ignores comment-only hunks", () => {
    const other = diff(
      "     subtotal = sum(items)\n-    result = subtotal * 2\n+    result = subtotal + 2\n",
    );
    const elsewhere = diff(
      "     subtotal = sum(items)\n-    result = subtotal * 2\n-    return result\n+    result = subtotal * 3\n+    return result\n",
      " def shipping(items):",
    );
    const file = ORIGINAL.replaceAll("shop/cart.py", "shop/till.py");
    const keys = new Set([ORIGINAL, other, elsewhere, file].map(semanticKey));
    expect(keys.size).toBe(4);
    const withComment = `${ORIGINAL}diff --git a/shop/util.py b/shop/util.py\n--- a/shop/util.py\n+++ b/shop/util.py\n@@ -1,2 +1,2 @@\n-# helpers\n+# helpers for the cart\n x = 1\n`;
    expect(semanticKey(withComment)).toBe(semanticKey(ORIGINAL));
    expect(normalisedBug(ORIGINAL)).toEqual([
      {
        file: "shop/cart.py",
        functions: ["def total ( items ) :"],
        removed: ["$local0", "=", "subtotal", "*", "2", "return", "$local0"],
        added: ["$local0", "=", "subtotal", "*", "3", "return", "$local0"],
      },
    ]);
    expect(semanticKey("diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,5 +1,5 @@\n-a\n")).toBeNull();
  });
});
