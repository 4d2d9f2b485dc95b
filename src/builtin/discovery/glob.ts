// Minimal glob matching for test file patterns (`**`, `*`, `?`, `[ab]`, `{a,b}`, `?(a|b)`), over
// repository-relative paths.

function translate(glob: string): string {
  let pattern = "";
  for (let index = 0; index < glob.length; index++) {
    const character = glob[index]!;
    const next = glob[index + 1];
    if (character === "*" && next === "*") {
      const slash = glob[index + 2] === "/";
      pattern += slash ? "(?:.*/)?" : ".*";
      index += slash ? 2 : 1;
    } else if (character === "*") pattern += "[^/]*";
    else if ((character === "?" || character === "+" || character === "@") && next === "(") {
      const close = glob.indexOf(")", index);
      const alternatives = glob
        .slice(index + 2, close)
        .split("|")
        .map(translate)
        .join("|");
      pattern += `(?:${alternatives})${character === "?" ? "?" : character === "+" ? "+" : ""}`;
      index = close;
    } else if (character === "?") pattern += "[^/]";
    else if (character === "{") {
      const close = glob.indexOf("}", index);
      if (close < 0) pattern += "\\{";
      else {
        pattern += `(?:${glob
          .slice(index + 1, close)
          .split(",")
          .map(translate)
          .join("|")})`;
        index = close;
      }
    } else if (character === "[" && glob.indexOf("]", index) > index + 1) {
      const close = glob.indexOf("]", index);
      pattern += `[${glob
        .slice(index + 1, close)
        .replace(/^!/, "^")
        .replace(/\\/g, "\\\\")}]`;
      index = close;
    } else pattern += character.replace(/[.+^$()|[\]\\]/g, "\\$&");
  }
  return pattern;
}

/** A matcher for one glob; a leading "./" is ignored. */
export function globMatcher(glob: string): (path: string) => boolean {
  const regex = new RegExp(`^${translate(glob.replace(/^\.\//, ""))}$`);
  return (path) => regex.test(path.replace(/^\.\//, ""));
}

/** True when `path` matches any of the globs. */
export function matchesAny(path: string, globs: readonly string[]): boolean {
  return globs.some((glob) => globMatcher(glob)(path));
}
