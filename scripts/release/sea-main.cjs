'use strict';
/**
 * The main script of the single executable. It compiles the CLI bundle (SEA asset `cli.cjs`) with a V8 code cache
 * (asset `cli.cache`) that a run of this very binary wrote at build time (scripts/release/lib/sea.ts).
 *
 * Why not the SEA's own `useCodeCache`: Node makes that cache right after compiling the main script, when V8 has
 * compiled little more than its top level, so every function a command runs is still compiled on every start
 * (~15 ms of `version --client`). A cache written at the end of a run holds the functions that run used.
 *
 * A cache V8 refuses (another Node, other V8 flags, e.g. from NODE_OPTIONS) only costs that compile time: V8 then
 * compiles the source as it would without one.
 *
 * Build-time switches (the release tool sets them; nothing else should):
 * - NETDIAG_SEA_WRITE_CODE_CACHE=FILE: after the run, write the code cache to FILE;
 * - NETDIAG_SEA_CHECK_CODE_CACHE=1: exit 1 before running the CLI unless the cache was accepted.
 */
const { getAsset, getRawAsset } = require('node:sea');
const vm = require('node:vm');

// The asset is the bundle already inside Node's CommonJS wrapper (scripts/release/lib/sea.ts), so the 3 MB source
// is not joined into a second copy here.
const source = getAsset('cli.cjs', 'utf8');
let cachedData;
try {
  // A view of the executable's own pages, not a copy: V8 only reads it.
  cachedData = new Uint8Array(getRawAsset('cli.cache'));
} catch {
  // A build without a cache (platforms other than the build machine's): compile as Node would.
}
const script = new vm.Script(source, {
  filename: __filename,
  cachedData,
  importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
});
if (process.env.NETDIAG_SEA_CHECK_CODE_CACHE === '1') {
  const accepted = cachedData !== undefined && !script.cachedDataRejected;
  process.stderr.write(`code cache: ${cachedData === undefined ? 'absent' : accepted ? 'accepted' : 'rejected'}\n`);
  process.exit(accepted ? 0 : 1);
}
const cacheFile = process.env.NETDIAG_SEA_WRITE_CODE_CACHE;
if (cacheFile) {
  process.once('exit', () => require('node:fs').writeFileSync(cacheFile, script.createCachedData()));
}
script.runInThisContext()(exports, require, module, __filename, __dirname);
