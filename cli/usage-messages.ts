/**
 * Commander's parse errors as one line each: the flag by its long name, what was expected,
 * and where the usage is (`see reprise capture --help`).
 */
import type { Command } from 'commander';

/** `'-o, --output <file>'` -> `--output`: the name a user types. */
const flagName = (spec: string) => spec.match(/--[\w-]+/)?.[0] ?? spec.split(/[ ,]/)[0];

function reword(text: string): string {
  const t = text
    .replace(/^error: /, '')
    .replace(/\s*\n\s*/g, ' ')
    .trim();
  let m = /^option '([^']+)' argument '([^']*)' is invalid\. (.*)$/.exec(t);
  if (m) {
    const [, spec, value, why] = m;
    const choices = /^Allowed choices are (.*)\.$/.exec(why);
    if (choices) return `${flagName(spec)}: expected one of ${choices[1]}, got "${value}"`;
    return `${flagName(spec)}: ${why}`;
  }
  if ((m = /^command-argument value '([^']*)' is invalid for argument '([^']+)'\. (.*)$/.exec(t))) {
    return `${m[2].toUpperCase()}: ${m[3]}`;
  }
  if ((m = /^required option '([^']+)' not specified$/.exec(t))) return `missing the required option ${m[1]}`;
  if ((m = /^missing required argument '([^']+)'$/.exec(t)))
    return `missing the ${m[1].toUpperCase()} argument`;
  if ((m = /^option '([^']+)' argument missing$/.exec(t))) return `${flagName(m[1])}: missing its value`;
  if ((m = /^too many arguments(?: for '[^']+')?\. Expected (\d+) arguments? but got (\d+)\.$/.exec(t))) {
    return `too many arguments: expected ${m[1]}, got ${m[2]}`;
  }
  // unknown option, conflicting options, unknown command, too many arguments: already one sentence.
  return t.replace(/'(-\w, )?(--[\w-]+)( <[^>]+>| \[[^\]]+\])?'/g, '$2');
}

export function commanderMessage(command: Command, text: string, path: string): string {
  const usage = `see \`reprise${path ? ` ${path}` : ''} --help\``;
  if (!text) {
    const subs = command.commands.map((c) => c.name()).filter((n) => n !== 'help');
    return `${path ? `${path}: expected a sub-command` : 'expected a command'}: ${subs.join(', ')} (${usage})`;
  }
  return `${reword(text)} (${usage})`;
}
