/**
 * Splits the output of collect.ts's scripts into named sections. Pure; the bundle stores sections as files and the
 * parsers read them by name.
 */
import { SECTION_BEGIN, SECTION_END } from './collect.js';

export interface Section {
  readonly name: string;
  /** The command's stdout, exactly as printed. */
  readonly output: string;
  /** The command's exit status; undefined when the output was cut before its end line. */
  readonly status: number | undefined;
  /** What the command wrote on stderr (at most 4 KiB), when anything. */
  readonly stderr?: string;
}

export type Sections = ReadonlyMap<string, Section>;

const STDERR_SUFFIX = '!stderr';

/** Sections in the order printed; a section cut short (no end line) keeps what arrived and has no status. */
export function parseSections(text: string): Map<string, Section> {
  const sections = new Map<string, Section>();
  const stderr = new Map<string, string>();
  let current: { name: string; lines: string[] } | undefined;
  // The script prints a newline before every end line, so the lines collected, joined, are the output exactly.
  const close = (status: number | undefined): void => {
    if (!current) return;
    const output = current.lines.join('\n');
    if (current.name.endsWith(STDERR_SUFFIX)) stderr.set(current.name.slice(0, -STDERR_SUFFIX.length), output);
    else sections.set(current.name, { name: current.name, output, status });
    current = undefined;
  };
  for (const line of text.split('\n')) {
    if (line.startsWith(`${SECTION_BEGIN} `)) {
      close(undefined);
      current = { name: line.slice(SECTION_BEGIN.length + 1), lines: [] };
    } else if (current && line.startsWith(`${SECTION_END} ${current.name} `)) {
      const status = Number(line.slice(SECTION_END.length + current.name.length + 2));
      close(Number.isInteger(status) ? status : undefined);
    } else if (current) {
      current.lines.push(line);
    }
  }
  close(undefined);
  for (const [name, text] of stderr) {
    const section = sections.get(name);
    if (section) sections.set(name, { ...section, stderr: text });
  }
  return sections;
}

/** The output of a section that ran and exited 0, else undefined. */
export function okOutput(sections: Sections, name: string): string | undefined {
  const section = sections.get(name);
  return section && section.status === 0 ? section.output : undefined;
}

/** Sections whose name starts with `prefix ` (e.g. every `cni-file NAME`), with the rest of the name. */
export function sectionsNamed(sections: Sections, prefix: string): { key: string; section: Section }[] {
  const found: { key: string; section: Section }[] = [];
  for (const [name, section] of sections) {
    if (name.startsWith(`${prefix} `)) found.push({ key: name.slice(prefix.length + 1), section });
  }
  return found;
}
