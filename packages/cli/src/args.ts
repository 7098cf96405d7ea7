// args.ts: a tiny argv parser (`--foo-bar 3 --flag --x=y pos`) producing {fooBar: '3', flag: true,
// x: 'y', _: ['pos']}, and validation of the result with a command's zod schema.
import type { z } from 'zod';

export interface ParsedArgs {
  _: string[];
  [option: string]: string | boolean | string[];
}

export class UsageError extends Error {}

const camel = (s: string) => s.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** Splits argv into options and positionals. A value-less `--flag` is true; `--` ends options. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const out: ParsedArgs = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      out._.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--') || arg === '--') {
      out._.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = camel(arg.slice(2, eq === -1 ? undefined : eq));
    if (!/^[a-zA-Z][a-zA-Z0-9]*$/.test(name)) throw new UsageError(`invalid option '${arg}'`);
    if (name in out && name !== '_') throw new UsageError(`option --${kebab(name)} was given twice`);
    if (eq !== -1) {
      out[name] = arg.slice(eq + 1);
    } else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) {
      out[name] = argv[++i];
    } else {
      out[name] = true;
    }
  }
  return out;
}

/**
 * Validates parsed options against schema; positionals fill the named slots in order (e.g. `dir`).
 * Messages name the option.
 */
export function validateOptions<S extends z.ZodType>(
  schema: S,
  args: ParsedArgs,
  positionalNames: readonly string[] = [],
): z.infer<S> {
  const { _: positionals, ...named } = args;
  if (positionals.length > positionalNames.length)
    throw new UsageError(`unexpected argument '${positionals[positionalNames.length]}'`);
  const options: Record<string, unknown> = { ...named };
  positionals.forEach((v, i) => {
    options[positionalNames[i]!] = v;
  });
  const result = schema.safeParse(options);
  if (result.success) return result.data;
  const messages = result.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((k) => `unknown option --${kebab(k)}`).join('; ');
    }
    const path = issue.path.map(String).join('.');
    return path ? `--${kebab(path)}: ${issue.message}` : issue.message;
  });
  throw new UsageError(messages.join('; '));
}
