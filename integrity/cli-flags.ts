import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';

/** node:util parseArgs errors as one line naming the flag. */
export function parseArgsError(err: unknown): string {
  const e = err as { code?: string; message: string };
  const flag = /'([^']+)'/.exec(e.message)?.[1];
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown flag ${flag ?? e.message}`;
  if (e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL')
    return `unexpected argument ${flag ?? ''}: every value needs its --flag`;
  if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE')
    return `${(flag ?? '').split(' ')[0] || 'a flag'}: ${e.message.replace(/^Option '[^']+' /, '')}`;
  return e.message;
}

/** Parses a --pg-port style value; a message naming the flag when it is not a TCP port. */
export function parsePort(value: string | undefined, flag: string): number | string {
  if (value === undefined) return `${flag} is required`;
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1 || Number(value) > 65535)
    return `${flag} must be a TCP port number (1-65535), got '${value}'`;
  return Number(value);
}

export type FlagValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/**
 * The shared start of every integrity CLI's argument parsing: strict flags, --help, and a
 * `text()` reader that records an empty value as a problem naming the flag.
 */
export function readFlags(
  argv: string[],
  options: ParseArgsOptionsConfig,
):
  | { message: string }
  | { help: true }
  | { values: FlagValues; problems: string[]; text: (name: string) => string | undefined } {
  let values: FlagValues;
  try {
    ({ values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false }));
  } catch (err) {
    return { message: parseArgsError(err) };
  }
  if (values.help) return { help: true };
  const problems: string[] = [];
  const text = (name: string): string | undefined => {
    const v = values[name];
    if (typeof v !== 'string') return undefined;
    if (v.trim() === '') problems.push(`--${name} must not be empty`);
    return v;
  };
  return { values, problems, text };
}
