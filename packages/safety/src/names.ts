let counter = 0;

/** A lock name no other test in this process uses, so tests on one Redis never meet. */
export function uniqueName(label: string): string {
  counter += 1;
  return `${label}-${counter}-${Math.random().toString(36).slice(2, 7)}`;
}
