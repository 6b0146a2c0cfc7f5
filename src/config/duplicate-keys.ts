/**
 * A key given twice in one JSON object (`{"train": {"steps": 100, "steps": 200}}`): JSON.parse
 * keeps the last silently, so a config file would train with a value its reader may not see.
 * jsonc-parser (Microsoft's, the one VS Code uses) walks the text; its visitor reports each
 * property with its object, which is all a duplicate check needs.
 */
import { visit } from 'jsonc-parser';

/** The dotted path of the first key repeated within one object, or undefined. */
export function firstDuplicateKey(text: string): string | undefined {
  const open: { keys: Set<string>; path: string }[] = [];
  let pendingKey: string | undefined;
  let arrayKey: string | undefined;
  let found: string | undefined;
  const join = (path: string, key: string) => (path ? `${path}.${key}` : key);
  visit(text, {
    onObjectBegin: () => {
      const parent = open.at(-1);
      // An object in a list takes the list's path (e.g. "sweep" for a sweep entry).
      open.push({ keys: new Set(), path: parent ? join(parent.path, pendingKey ?? arrayKey ?? '') : '' });
      pendingKey = undefined;
    },
    onObjectEnd: () => void open.pop(),
    onArrayBegin: () => {
      arrayKey = pendingKey;
      pendingKey = undefined;
    },
    onObjectProperty: (key) => {
      const current = open.at(-1);
      if (!current) return;
      if (current.keys.has(key) && found === undefined) found = join(current.path, key);
      current.keys.add(key);
      pendingKey = key;
    },
  });
  return found;
}
