// args.ts: a tiny argv parser (`--foo-bar 3 --flag --x=y pos`) producing {fooBar: '3', flag: true,
// x: 'y', _: ['pos']}, and validation of the result with a command's zod schema.
// Boolean options (z.boolean() in the schema, see booleanOptions) never take the next argument
// unless it is `true` or `false`: `--all DIR` is --all and the positional DIR. They are turned on by
// `--flag` and set by `--flag=true`, `--flag=false`, `--flag true` or `--flag false`; there is no
// `--no-flag` form (it is refused with a hint). Every other option takes the next argument that
// does not start with `--` (so `--batch -1` reaches the schema, which refuses it by name); given
// without one it is `true`, which a non-boolean schema refuses as "needs a value".
import type { z } from 'zod';

export interface ParsedArgs {
  _: string[];
  [option: string]: string | boolean | string[];
}

export class UsageError extends Error {}

const camel = (s: string) => s.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
export const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** The usage line that explains how boolean options are written (commands' usage texts end with it). */
export const BOOLEAN_USAGE = 'Switches: --flag turns one on; --flag=false (or --flag false) turns it off.';

/** The value of a boolean option from its `=value` (or a following `true`/`false`). */
function booleanValue(name: string, value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new UsageError(
    `--${kebab(name)} is a switch: give --${kebab(name)} or --${kebab(name)}=false, not '${value}'`,
  );
}

/** `--no-x` for a boolean x: refused with the form that works. */
function refuseNegation(name: string, booleans: ReadonlySet<string>): void {
  const m = /^no([A-Z].*)$/.exec(name);
  if (!m) return;
  const base = m[1]![0]!.toLowerCase() + m[1]!.slice(1);
  if (booleans.has(base) && !booleans.has(name))
    throw new UsageError(
      `unknown option --${kebab(name)}; to turn --${kebab(base)} off give --${kebab(base)}=false`,
    );
}

/**
 * Splits argv into options and positionals. `booleans`: the camelCase names of the boolean options
 * (from booleanOptions(schema)); `--` ends options.
 */
export function parseArgs(argv: readonly string[], booleans: ReadonlySet<string> = new Set()): ParsedArgs {
  const out: ParsedArgs = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out._.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--')) {
      out._.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = camel(arg.slice(2, eq === -1 ? undefined : eq));
    if (!/^[a-zA-Z][a-zA-Z0-9]*$/.test(name)) throw new UsageError(`invalid option '${arg}'`);
    if (name in out && name !== '_') throw new UsageError(`option --${kebab(name)} was given twice`);
    refuseNegation(name, booleans);
    const next = argv[i + 1];
    if (booleans.has(name)) {
      if (eq !== -1) out[name] = booleanValue(name, arg.slice(eq + 1));
      else if (next === 'true' || next === 'false') out[name] = booleanValue(name, argv[++i]!);
      else out[name] = true;
    } else if (eq !== -1) {
      out[name] = arg.slice(eq + 1);
    } else if (next !== undefined && !next.startsWith('--')) {
      out[name] = argv[++i]!;
    } else {
      out[name] = true;
    }
  }
  return out;
}

type Def = { type: string; innerType?: z.ZodType };
const defOf = (s: z.ZodType) => (s as unknown as { _zod: { def: Def } })._zod.def;
const shapeOf = (schema: z.ZodType) =>
  (schema as unknown as { shape?: Record<string, z.ZodType> }).shape ?? {};

/** The type of an option's schema under default, optional, nullable or readonly. */
function baseType(schema: z.ZodType): string {
  let def = defOf(schema);
  while (def.innerType && ['default', 'prefault', 'optional', 'nullable', 'readonly'].includes(def.type))
    def = defOf(def.innerType);
  return def.type;
}

const isBoolean = (schema: z.ZodType) => baseType(schema) === 'boolean';
/** Schemas of plain values, which a bare `--flag` (true) must not reach: z.coerce.number() makes 1 of it. */
const takesValue = (schema: z.ZodType) =>
  ['string', 'number', 'bigint', 'enum', 'literal', 'date'].includes(baseType(schema));

/**
 * The options of an object schema that are booleans and nothing else (a union such as
 * string | boolean is not: such an option takes a value when one follows, as before).
 */
export function booleanOptions(schema: z.ZodType): Set<string> {
  const shape = shapeOf(schema);
  return new Set(Object.keys(shape).filter((k) => isBoolean(shape[k]!)));
}

/** The flags of a command's option schema (`--kebab-case`), less its positional arguments. */
export function optionFlags(schema: z.ZodType, positionals: readonly string[] = []): string[] {
  return Object.keys(shapeOf(schema))
    .filter((k) => !positionals.includes(k))
    .map((k) => `--${kebab(k)}`);
}

/**
 * Validates parsed options against schema; positionals fill the named slots in order (e.g. `dir`),
 * and the ones after them go, as a list, to the option named `rest` when there is one. Messages
 * name the option.
 */
export function validateOptions<S extends z.ZodType>(
  schema: S,
  args: ParsedArgs,
  positionalNames: readonly string[] = [],
  rest?: string,
): z.infer<S> {
  const { _: all, ...named } = args;
  const positionals = rest === undefined ? all : all.slice(0, positionalNames.length);
  if (rest !== undefined) named[rest] = all.slice(positionalNames.length);
  if (positionals.length > positionalNames.length)
    throw new UsageError(`unexpected argument '${positionals[positionalNames.length]}'`);
  const shape = shapeOf(schema);
  const bare = Object.keys(named).filter((k) => named[k] === true && shape[k] && takesValue(shape[k]));
  if (bare.length) throw new UsageError(bare.map((k) => `--${kebab(k)} needs a value`).join('; '));
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
    // a value-taking option given bare (`--model` with nothing after it)
    if (issue.path.length === 1 && named[path] === true) return `--${kebab(path)} needs a value`;
    return path ? `--${kebab(path)}: ${issue.message}` : issue.message;
  });
  throw new UsageError(messages.join('; '));
}
