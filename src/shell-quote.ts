// Quoting for the POSIX shell commands that go into a sandbox: one rule for every layer that builds them.

/** Single-quotes one word for a POSIX shell (a quote inside becomes '\''). */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** A word as it reads best in a script a person may open: bare when plainly safe, else single-quoted. */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : shellQuote(word);
}
