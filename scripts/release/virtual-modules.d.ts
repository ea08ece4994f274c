// Modules that scripts/release/lib/bundle.ts generates at build time for bundle-entry.ts.
declare module 'netdiag:commands' {
  /** `{ oclif command id: command class }`, one lazy getter per file under src/commands. */
  export const COMMANDS: Record<string, unknown>;
}
declare module 'netdiag:manifest' {
  /** oclif's manifest of those commands, or null in the first (manifest-computing) build. */
  export const MANIFEST: unknown;
}
declare module 'netdiag:pjson' {
  /** package.json as the bundled oclif sees it (see bundledPjson). */
  export const PJSON: Record<string, unknown>;
}
