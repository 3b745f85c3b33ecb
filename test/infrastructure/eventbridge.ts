/**
 * Stand-ins for the two things an EventBridge rule does to an event, so tests can run the
 * synthesized rule against the sample events in events/: match its event pattern, and
 * build the target's input with its input transformer.
 */

export class InputTransformerError extends Error {
  override name = 'InputTransformerError';
}

/**
 * Whether `event` matches an event pattern made of exact values (`{ source: ['aws.cloudwatch'],
 * detail: { state: { value: ['ALARM'] } } }`): every field the pattern names must hold one of
 * the listed values. Content filters (prefix, numeric, exists, …) are not supported and throw.
 */
export function matchesEventPattern(pattern: Record<string, unknown>, event: unknown): boolean {
  return Object.entries(pattern).every(([field, expected]) => {
    const actual = event && typeof event === 'object' ? (event as Record<string, unknown>)[field] : undefined;
    if (Array.isArray(expected)) {
      if (expected.some((v) => v !== null && typeof v === 'object'))
        throw new InputTransformerError(`pattern field '${field}': content filters are not supported here`);
      return Array.isArray(actual) ? actual.some((a) => expected.includes(a)) : expected.includes(actual);
    }
    if (expected && typeof expected === 'object')
      return matchesEventPattern(expected as Record<string, unknown>, actual);
    throw new InputTransformerError(`pattern field '${field}' must be an array of values or an object`);
  });
}

/**
 * What EventBridge sends a target for an InputTransformer (InputPathsMap + InputTemplate),
 * following the EventBridge user guide ("Amazon EventBridge input transformation" and its
 * "Common issues"):
 *
 * - each InputPathsMap value is a JSON path into the event (dot notation, names with dashes
 *   and underscores, array indices); `<name>` in the template is replaced by what it selects;
 * - a placeholder in a JSON value position becomes the selected value's JSON text: a string
 *   is quoted and escaped, numbers, booleans, objects and arrays are inserted as JSON;
 * - a placeholder inside a JSON string gets the value's text unescaped (EventBridge does not
 *   escape values extracted by an input path); an object or array loses its internal quotes;
 * - the predefined `aws.events.rule-arn`, `aws.events.rule-name`,
 *   `aws.events.event.ingestion-time`, `aws.events.event` (the event without `detail`) and
 *   `aws.events.event.json` (the whole event) need no path;
 * - a path that selects nothing creates no variable: here that is an error, so a test
 *   cannot pass on a template that would lose a field.
 *
 * The result must be JSON for a Step Functions target (StartExecution's input): it is
 * parsed, and a template that renders to invalid JSON throws.
 */
export interface InputTransformer {
  readonly InputPathsMap?: Readonly<Record<string, string>>;
  readonly InputTemplate: string;
}

export interface RuleContext {
  readonly ruleArn: string;
  readonly ruleName: string;
  /** When EventBridge received the event. @default the event's `time` */
  readonly ingestionTime?: string;
}

const SEGMENT = /^([A-Za-z0-9_\-/]+)((?:\[\d+\])*)$/;

/** The value an EventBridge input path selects, or `undefined` when it selects nothing. */
export function selectPath(event: unknown, jsonPath: string): unknown {
  if (jsonPath === '$') return event;
  if (!jsonPath.startsWith('$.'))
    throw new InputTransformerError(`'${jsonPath}' is not a JSON path starting at $`);
  let value: unknown = event;
  for (const segment of jsonPath.slice(2).split('.')) {
    const match = SEGMENT.exec(segment);
    if (!match)
      throw new InputTransformerError(
        `'${jsonPath}': segment '${segment}' is not supported (dot notation and array indices only)`,
      );
    value = value && typeof value === 'object' ? (value as Record<string, unknown>)[match[1]!] : undefined;
    for (const index of match[2]!.matchAll(/\[(\d+)\]/g))
      value = Array.isArray(value) ? value[Number(index[1])] : undefined;
    if (value === undefined) return undefined;
  }
  return value;
}

function variables(
  transformer: InputTransformer,
  event: Record<string, unknown>,
  rule: RuleContext,
): Map<string, unknown> {
  const vars = new Map<string, unknown>([
    ['aws.events.rule-arn', rule.ruleArn],
    ['aws.events.rule-name', rule.ruleName],
    ['aws.events.event.ingestion-time', rule.ingestionTime ?? event.time],
    ['aws.events.event', Object.fromEntries(Object.entries(event).filter(([k]) => k !== 'detail'))],
    ['aws.events.event.json', event],
  ]);
  for (const [name, jsonPath] of Object.entries(transformer.InputPathsMap ?? {})) {
    if (name.startsWith('aws.'))
      throw new InputTransformerError(`InputPathsMap key '${name}': names starting with aws. are reserved`);
    const value = selectPath(event, jsonPath);
    if (value === undefined)
      throw new InputTransformerError(`<${name}>: ${jsonPath} selects nothing in the event`);
    vars.set(name, value);
  }
  return vars;
}

/** The text of a value placed inside a JSON string: unescaped; objects and arrays without their quotes. */
function inStringText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object') return JSON.stringify(value).replace(/"/g, '');
  return String(value);
}

/** The template with every placeholder replaced, as text (before it is parsed). */
export function renderInputTemplate(
  transformer: InputTransformer,
  event: Record<string, unknown>,
  rule: RuleContext,
): string {
  const vars = variables(transformer, event, rule);
  const template = transformer.InputTemplate;
  let out = '';
  let inString = false;
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if (inString && c === '\\') {
      out += c + (template[i + 1] ?? '');
      i += 1;
      continue;
    }
    if (c === '"') {
      inString = !inString;
      out += c;
      continue;
    }
    if (c === '<') {
      const close = template.indexOf('>', i + 1);
      const name = close > i ? template.slice(i + 1, close) : '';
      if (/^[A-Za-z0-9_.-]+$/.test(name)) {
        if (!vars.has(name))
          throw new InputTransformerError(
            `InputTemplate uses <${name}>, which InputPathsMap does not define`,
          );
        const value = vars.get(name);
        out += inString ? inStringText(value) : JSON.stringify(value);
        i = close;
        continue;
      }
    }
    out += c;
  }
  return out;
}

/** What the target receives: the rendered template, parsed (a Step Functions execution input must be JSON). */
export function applyInputTransformer(
  transformer: InputTransformer,
  event: Record<string, unknown>,
  rule: RuleContext,
): unknown {
  const text = renderInputTemplate(transformer, event, rule);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InputTransformerError(`the rendered input is not JSON (${(err as Error).message}): ${text}`);
  }
}
