/** One line per validation issue, each naming the field path (`load.rate: expected a number`). */
export function describeZodIssues(
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
  prefix = '',
): string {
  return issues
    .map((i) => {
      const path = [prefix, ...i.path.map(String)].filter(Boolean).join('.');
      return path ? `${path}: ${i.message}` : i.message;
    })
    .join('; ');
}
