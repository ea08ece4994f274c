/**
 * The part of TOML that runtime configs (containerd's config.toml, cri-o's crio.conf) use for the settings `node`
 * reads: `[table."quoted.segment"]` headers, `key = "string"` / `'literal'` / number / boolean, and arrays of strings
 * (also over several lines). Inline tables, array tables and multi-line strings are skipped, not misread: a value
 * this reader does not understand is left out. Pure.
 */

export type TomlValue = string | number | boolean | readonly string[];

/** Splits `a."b.c".d` into `['a', 'b.c', 'd']`. */
export function splitTomlKey(key: string): string[] {
  const parts: string[] = [];
  const pattern = /\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*(?:\.|$)/y;
  let match: RegExpExecArray | null;
  while (pattern.lastIndex < key.length && (match = pattern.exec(key)) !== null) {
    parts.push(match[1] ?? match[2] ?? match[3] ?? '');
  }
  return parts;
}

const KEY_SEPARATOR = '\u0000';

function scalar(raw: string): TomlValue | undefined {
  const text = raw.trim();
  const basic = /^"((?:[^"\\]|\\.)*)"/.exec(text);
  if (basic) return JSON.parse(`"${basic[1]}"`) as string;
  const literal = /^'([^']*)'/.exec(text);
  if (literal) return literal[1];
  if (/^(true|false)\b/.test(text)) return text.startsWith('true');
  const number = /^[+-]?\d+(\.\d+)?\b/.exec(text);
  if (number) return Number(number[0].replace(/_/g, ''));
  return undefined;
}

function stringArray(raw: string): string[] | undefined {
  const inner = /^\[([\s\S]*)\]/.exec(raw.trim());
  if (!inner) return undefined;
  const items: string[] = [];
  for (const match of (inner[1] ?? '').matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'/g)) {
    items.push(match[1] !== undefined ? (JSON.parse(`"${match[1]}"`) as string) : (match[2] ?? ''));
  }
  return items;
}

/** Strips a `#` comment that is not inside a string. */
function withoutComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quote) {
      if (ch === '\\' && quote === '"') i++;
      else if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '#') return line.slice(0, i);
  }
  return line;
}

/** A TOML document as full key paths → values. */
export class TomlDocument {
  private constructor(private readonly values: ReadonlyMap<string, TomlValue>) {}

  static parse(text: string): TomlDocument {
    const values = new Map<string, TomlValue>();
    let table: string[] = [];
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = withoutComment(lines[i] ?? '').trim();
      if (line === '') continue;
      if (line.startsWith('[[')) {
        table = ['[[array table]]'];
        continue;
      }
      const header = /^\[(.+)\]$/.exec(line);
      if (header) {
        table = splitTomlKey(header[1] ?? '');
        continue;
      }
      const eq = /^((?:"(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_.\s-])+?)\s*=\s*(.*)$/.exec(line);
      if (!eq) continue;
      let raw = eq[2] ?? '';
      if (raw.startsWith('[')) {
        // An array may continue over lines until its closing bracket.
        while (!raw.includes(']') && i + 1 < lines.length) raw += ` ${withoutComment(lines[++i] ?? '').trim()}`;
      }
      const value = raw.startsWith('[') ? stringArray(raw) : scalar(raw);
      if (value === undefined) continue;
      values.set([...table, ...splitTomlKey(eq[1] ?? '')].join(KEY_SEPARATOR), value);
    }
    return new TomlDocument(values);
  }

  get(path: readonly string[]): TomlValue | undefined {
    return this.values.get(path.join(KEY_SEPARATOR));
  }

  string(path: readonly string[]): string | undefined {
    const value = this.get(path);
    return typeof value === 'string' ? value : undefined;
  }

  strings(path: readonly string[]): readonly string[] | undefined {
    const value = this.get(path);
    if (typeof value === 'string') return [value];
    return Array.isArray(value) ? (value as readonly string[]) : undefined;
  }

  number(path: readonly string[]): number | undefined {
    const value = this.get(path);
    return typeof value === 'number' ? value : undefined;
  }
}
