import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { environmentError } from './errors.js';

/**
 * Images are configured in this ONE place so air-gapped users can point every helper at their mirror.
 * Precedence (highest first): a command's `--image` flag, `NETDIAG_TOOLS_IMAGE`, `NETDIAG_REGISTRY` (replaces the
 * registry host of the default), the config file (`toolsImage:` or `registry:`), the built-in default.
 */
export const DEFAULT_TOOLS_IMAGE = 'ghcr.io/kubectl-netdiag/tools:0.1.0';

export interface NetdiagFileConfig {
  /** Full image reference used for every helper (tools) container. */
  readonly toolsImage?: string;
  /** Registry host (and optional path prefix) that replaces `ghcr.io` in the default image. */
  readonly registry?: string;
}

/** `$NETDIAG_CONFIG`, else `$XDG_CONFIG_HOME/kubectl-netdiag/config.yaml`, else `~/.config/kubectl-netdiag/config.yaml`. */
export function configFilePath(env: NodeJS.ProcessEnv, home: string = homedir()): string {
  if (env.NETDIAG_CONFIG) return env.NETDIAG_CONFIG;
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.length > 0 ? env.XDG_CONFIG_HOME : path.join(home, '.config');
  return path.join(base, 'kubectl-netdiag', 'config.yaml');
}

/** Reads the config file; a missing file is an empty config, an unreadable or malformed one is an error (exit 3). */
export function loadFileConfig(file: string): NetdiagFileConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw environmentError(
      `cannot read config file ${file}: ${(err as Error).message}`,
      'fix its permissions or remove it',
    );
  }
  const parsed: unknown = parseYaml(text);
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw environmentError(
      `config file ${file} is not a YAML mapping`,
      'write it as `registry: my.mirror.local` or `toolsImage: <ref>`',
    );
  }
  const record = parsed as Record<string, unknown>;
  const config: { toolsImage?: string; registry?: string } = {};
  for (const key of ['toolsImage', 'registry'] as const) {
    const value = record[key];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value.length === 0) {
      throw environmentError(
        `config file ${file}: ${key} must be a non-empty string`,
        `set ${key}: <string> or remove it`,
      );
    }
    config[key] = value;
  }
  return config;
}

/** Replaces the registry part (everything before the first `/`) of an image reference. */
export function withRegistry(image: string, registry: string): string {
  const slash = image.indexOf('/');
  const rest = slash === -1 ? image : image.slice(slash + 1);
  return `${registry.replace(/\/+$/, '')}/${rest}`;
}

/** Resolves the tools image; pure, so the precedence is unit-tested. */
export function resolveToolsImage(flag: string | undefined, env: NodeJS.ProcessEnv, file: NetdiagFileConfig): string {
  if (flag) return flag;
  if (env.NETDIAG_TOOLS_IMAGE) return env.NETDIAG_TOOLS_IMAGE;
  if (env.NETDIAG_REGISTRY) return withRegistry(DEFAULT_TOOLS_IMAGE, env.NETDIAG_REGISTRY);
  if (file.toolsImage) return file.toolsImage;
  if (file.registry) return withRegistry(DEFAULT_TOOLS_IMAGE, file.registry);
  return DEFAULT_TOOLS_IMAGE;
}
