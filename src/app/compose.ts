/**
 * Entries defined apart by their owners (the kernel, platform, each feature) and read as one, in one
 * order: the error catalogue (src/app/error-catalogue.ts) and the settings schema (src/app/settings.ts).
 * Each name must be defined by exactly one owner and placed exactly once in the order; otherwise this
 * throws, naming every offender, when the module that composes loads (so the server and every test stop).
 */
export function composeInOrder<T>(kind: string, byOwner: Record<string, Record<string, T>>, order: readonly string[]): Record<string, T> {
  const entries = new Map<string, { owner: string; entry: T }>();
  const problems: string[] = [];
  for (const [owner, definitions] of Object.entries(byOwner)) {
    for (const [name, entry] of Object.entries(definitions)) {
      const first = entries.get(name);
      if (first) problems.push(`${kind} ${name} is defined by both ${first.owner} and ${owner}`);
      else entries.set(name, { owner, entry });
    }
  }
  const placed = new Set<string>();
  for (const name of order) {
    if (placed.has(name)) problems.push(`${kind} ${name} is placed twice in the order`);
    else if (!entries.has(name)) problems.push(`${kind} ${name} is placed in the order but defined by no one`);
    placed.add(name);
  }
  for (const name of entries.keys()) if (!placed.has(name)) problems.push(`${kind} ${name} is not placed in the order`);
  if (problems.length) throw new Error(problems.join('; '));
  return Object.fromEntries(order.map((name) => [name, entries.get(name)!.entry]));
}
