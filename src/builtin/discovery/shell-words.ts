// Splits a package.json test command into shell words and command segments, enough to find which
// runner it calls and with which arguments (no expansion, no subshells).

/** Words of one simple command, quotes removed; operators (`&&`, `||`, `;`, `|`) as their own words. */
function shellWords(command: string): string[] {
  const words: string[] = [];
  let current = "";
  let inWord = false;
  for (let index = 0; index < command.length; index++) {
    const character = command[index]!;
    if (character === "'" || character === '"') {
      const close = command.indexOf(character, index + 1);
      const end = close < 0 ? command.length : close;
      current += command.slice(index + 1, end);
      inWord = true;
      index = end;
    } else if (character === "\\" && index + 1 < command.length) {
      current += command[++index];
      inWord = true;
    } else if (/\s/.test(character)) {
      if (inWord) words.push(current);
      current = "";
      inWord = false;
    } else if (character === "&" || character === "|" || character === ";") {
      if (inWord) words.push(current);
      const double = command[index + 1] === character && character !== ";";
      words.push(double ? character + character : character);
      if (double) index++;
      current = "";
      inWord = false;
    } else {
      current += character;
      inWord = true;
    }
  }
  if (inWord) words.push(current);
  return words;
}

/** The command segments (split at `&&`, `||`, `;`, `|`, `&`). */
export function commandSegments(command: string): string[][] {
  const segments: string[][] = [[]];
  for (const word of shellWords(command)) {
    if (["&&", "||", ";", "|", "&"].includes(word)) segments.push([]);
    else segments.at(-1)!.push(word);
  }
  return segments.filter((segment) => segment.length > 0);
}
