// Check 6 on a test method of a base class inherited by three classes: deleting it hides the method's id in
// every subclass. When only one subclass's id is F2P, the other ids run the same definition and may go too.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Edit } from "../../test/support/artifact-builder.js";
import { expectFailure, type Inkwell, KEBAB_BUG, openInkwell } from "../../test/support/inkwell.js";
import { codeModelTestLocator } from "../builtin/index.js";
import { createValidator } from "./validator.js";

const INHERITED = [
  "from inkwell.case import to_camel, to_kebab, to_snake",
  "",
  "",
  "class Conversion:",
  "    def test_converts_words(self):",
  '        assert self.convert("parse http request") == self.expected',
  "",
  "    def test_keeps_empty(self):",
  '        assert self.convert("") == ""',
  "",
  "",
  "class TestKebab(Conversion):",
  "    convert = staticmethod(to_kebab)",
  '    expected = "parse-http-request"',
  "",
  "",
  "class TestSnake(Conversion):",
  "    convert = staticmethod(to_snake)",
  '    expected = "parse_http_request"',
  "",
  "",
  "class TestCamel(Conversion):",
  "    convert = staticmethod(to_camel)",
  '    expected = "parseHttpRequest"',
  "",
].join("\n");

const DELETE_BASE_METHOD = {
  file: "tests/test_inherited.py",
  removeLines:
    '    def test_converts_words(self):\n        assert self.convert("parse http request") == self.expected\n\n',
} satisfies Edit;

let inkwell: Inkwell;
let validator: ReturnType<typeof createValidator>;

beforeAll(async () => {
  inkwell = await openInkwell("inherited-weakening-test-");
  writeFileSync(join(inkwell.repo, "tests/test_inherited.py"), INHERITED);
  const git = (...args: string[]) => execFileSync("git", ["-C", inkwell.repo, ...args]);
  git("add", "tests/test_inherited.py");
  git("-c", "user.name=test", "-c", "user.email=test@localhost", "commit", "-qm", "Add inherited tests");
  validator = createValidator({ sandboxes: inkwell.sandboxes, testLocator: codeModelTestLocator });
});

afterAll(async () => {
  await validator?.close();
  await inkwell?.close();
});

describe("a weakening that deletes an inherited test method", () => {
  const testFiles = ["tests/test_case.py", "tests/test_inherited.py"];

  it("is valid when one subclass's id is F2P: the other subclasses' ids run the same definition", async () => {
    const report = await validator.validate(
      inkwell.environment,
      inkwell.artifact([KEBAB_BUG], [DELETE_BASE_METHOD], { testFiles }),
    );
    expect(report.verdict, report.reason ?? "").toBe("valid");
    expect(report.f2p).toContain("tests/test_inherited.py::TestKebab::test_converts_words");
    expect(report.p2p).toContain("tests/test_inherited.py::TestSnake::test_converts_words");
    expect(report.checks.find((check) => check.check === "weakening")?.evidence).toMatchObject({
      removedWithF2pDefinition: [
        "tests/test_inherited.py::TestCamel::test_converts_words",
        "tests/test_inherited.py::TestSnake::test_converts_words",
      ],
    });
  });

  it("still rejects one that also deletes a P2P method no F2P id runs", async () => {
    const report = await validator.validate(
      inkwell.environment,
      inkwell.artifact(
        [KEBAB_BUG],
        [
          {
            file: "tests/test_inherited.py",
            replace: [
              `${DELETE_BASE_METHOD.removeLines}    def test_keeps_empty(self):\n        assert self.convert("") == ""\n`,
              "    pass\n",
            ],
          },
        ],
        { testFiles },
      ),
    );
    expectFailure(
      report,
      "weakening",
      /P2P test\(s\) the bug does not break are missing: .*test_keeps_empty/,
    );
  });
});
