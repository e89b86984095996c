import { CliError } from './errors';

/** One option of a command: `--name VALUE` (string/number/list) or `--name` (flag). */
export interface OptionSpec {
  type: 'string' | 'number' | 'integer' | 'flag' | 'number-list';
  description: string;
  default?: string | number | boolean | number[];
  /** Value placeholder shown in help, e.g. FILE. */
  value?: string;
  /** Smallest allowed value of a number/integer/number-list option (a usage error below it). */
  min?: number;
  /** With `min`: the value must be strictly greater than `min` (e.g. temperatures and tolerances > 0). */
  exclusiveMin?: boolean;
}

export type OptionSpecs = Record<string, OptionSpec>;
export type OptionValue = string | number | boolean | number[] | undefined;

/** Splits `argv` (without node and script) into the command name and the rest. */
export function splitCommand(argv: readonly string[]): { command: string | undefined; rest: string[] } {
  const first = argv[0];
  if (first === undefined || first.startsWith('-')) return { command: undefined, rest: [...argv] };
  return { command: first, rest: argv.slice(1) };
}

function parseNumber(name: string, raw: string, integer: boolean, spec?: OptionSpec): number {
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v)) throw new CliError('bad-value', `--${name}: expected a number, got '${raw}'`);
  if (integer && !Number.isInteger(v)) throw new CliError('bad-value', `--${name}: expected an integer, got '${raw}'`);
  if (spec?.min !== undefined && (spec.exclusiveMin ? !(v > spec.min) : !(v >= spec.min))) {
    throw new CliError('bad-value', `--${name}: expected a number ${spec.exclusiveMin ? '>' : '>='} ${spec.min}, got '${raw}'`);
  }
  return v;
}

/**
 * Parses `--name value`, `--name=value` and flags against `specs`. Unknown options, missing
 * values and malformed numbers throw {@link CliError} naming the option.
 */
export function parseOptions(
  command: string,
  args: readonly string[],
  specs: OptionSpecs,
): { options: Record<string, OptionValue>; positionals: string[] } {
  const options: Record<string, OptionValue> = {};
  const positionals: string[] = [];
  for (const [name, spec] of Object.entries(specs)) if (spec.default !== undefined) options[name] = spec.default;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--')) {
      if (arg.startsWith('-') && arg.length > 1 && arg !== '-h')
        throw new CliError('unknown-option', `${command}: unknown option '${arg}' (options are spelled --name)`);
      if (arg === '-h') {
        options.help = true;
        continue;
      }
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    let name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    let inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    if (name === 'help') {
      options.help = true;
      continue;
    }
    let spec = specs[name];
    if (!spec && name.startsWith('no-') && specs[name.slice(3)]?.type === 'flag') {
      name = name.slice(3);
      spec = specs[name];
      inline = 'false';
    }
    if (!spec) {
      const known = Object.keys(specs)
        .map((k) => `--${k}`)
        .join(', ');
      throw new CliError('unknown-option', `${command}: unknown option '--${name}' (known: ${known || 'none'})`);
    }
    if (spec.type === 'flag') {
      if (inline === undefined) options[name] = true;
      else if (inline === 'true' || inline === '1') options[name] = true;
      else if (inline === 'false' || inline === '0') options[name] = false;
      else throw new CliError('bad-value', `--${name}: a flag takes no value (got '${inline}')`);
      continue;
    }
    let raw = inline;
    if (raw === undefined) {
      const next = args[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2))
        throw new CliError('missing-option', `--${name} needs a value${spec.value ? ` (${spec.value})` : ''}`);
      raw = next;
      i++;
    }
    switch (spec.type) {
      case 'string':
        options[name] = raw;
        break;
      case 'number':
        options[name] = parseNumber(name, raw, false, spec);
        break;
      case 'integer':
        options[name] = parseNumber(name, raw, true, spec);
        break;
      case 'number-list': {
        const parts = raw.split(',').filter((p) => p.trim() !== '');
        if (parts.length === 0) throw new CliError('bad-value', `--${name}: expected a comma-separated list of numbers, got '${raw}'`);
        options[name] = parts.map((p) => parseNumber(name, p, false, spec));
        break;
      }
    }
  }
  return { options, positionals };
}

/** Formats the option table of a command for `--help`. */
export function formatOptions(specs: OptionSpecs): string {
  const rows = Object.entries(specs).map(([name, spec]) => {
    const left = `  --${name}${spec.type === 'flag' ? '' : ` ${spec.value ?? (spec.type === 'string' ? 'VALUE' : 'N')}`}`;
    const def =
      spec.default !== undefined && spec.type !== 'flag'
        ? ` (default ${Array.isArray(spec.default) ? spec.default.join(',') : String(spec.default)})`
        : '';
    return [left, `${spec.description}${def}`] as const;
  });
  const width = Math.max(0, ...rows.map(([l]) => l.length)) + 2;
  return rows.map(([l, r]) => `${l.padEnd(width)}${r}`).join('\n');
}

/** Typed getters that throw a usage error when a required option is absent. */
export function requireString(options: Record<string, OptionValue>, name: string): string {
  const v = options[name];
  if (typeof v !== 'string' || v === '') throw new CliError('missing-option', `missing required option --${name}`);
  return v;
}
export function optionalString(options: Record<string, OptionValue>, name: string): string | undefined {
  const v = options[name];
  return typeof v === 'string' ? v : undefined;
}
export function optionalNumber(options: Record<string, OptionValue>, name: string): number | undefined {
  const v = options[name];
  return typeof v === 'number' ? v : undefined;
}
export function flag(options: Record<string, OptionValue>, name: string): boolean {
  return options[name] === true;
}
