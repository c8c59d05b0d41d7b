/** Formats a zod issue path the way a reader writes it: `log.entries[3].request.url`. */
export function formatIssuePath(path: readonly PropertyKey[], prefix = ''): string {
  let out = prefix;
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

/** `path: message` for the first few issues of a failed parse. */
export function describeIssues(
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
  prefix = '',
  max = 3,
): string {
  const shown = issues.slice(0, max).map((i) => {
    const p = formatIssuePath(i.path, prefix);
    return p ? `${p}: ${i.message}` : i.message;
  });
  if (issues.length > max) shown.push(`(${issues.length - max} more)`);
  return shown.join('; ');
}
