// The kinds of value a config field can hold and how each is read from its three
// textual sources (a flag, a QKV_* environment variable, a JSON config file). A field
// describes itself once; src/config/node-config.ts lists the fields and
// src/config/load-config.ts applies them in precedence order.
//
// A parse failure throws a plain message; the loader adds where the value came from
// and raises ConfigInvalidError, so every message names the flag, variable or file key.

export interface ConfigField<T> {
  /** One line for `qkv server --help` and the configuration reference (docs/reference/configuration.md). */
  readonly describe: string;
  /** Boolean fields are flags without a value (`--log-pretty`). */
  readonly boolean?: true;
  readonly fromText: (text: string) => T;
  readonly fromJson: (value: unknown) => T;
  /** Shown in --help; the default itself lives in the defaults object. */
  readonly placeholder?: string;
  /** Text form of a value, for --help; JSON when absent. */
  readonly format?: (value: T) => string;
}

export function stringField(describe: string, check: (text: string) => void = () => {}): ConfigField<string> {
  const parse = (text: string): string => {
    check(text);
    return text;
  };
  return {
    describe,
    placeholder: 'TEXT',
    fromText: parse,
    fromJson: (value) => {
      if (typeof value !== 'string') throw new Error(`must be a string, got ${JSON.stringify(value)}`);
      return parse(value);
    },
  };
}

export function integerField(describe: string, min: number, max: number): ConfigField<number> {
  const check = (value: number, shown: string): number => {
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new Error(`must be an integer in ${min}..${max}, got ${shown}`);
    }
    return value;
  };
  return {
    describe,
    placeholder: 'N',
    fromText: (text) => {
      if (!/^-?[0-9]+$/.test(text.trim())) throw new Error(`must be an integer in ${min}..${max}, got "${text}"`);
      return check(Number(text.trim()), `"${text}"`);
    },
    fromJson: (value) => {
      if (typeof value !== 'number') throw new Error(`must be an integer in ${min}..${max}, got ${JSON.stringify(value)}`);
      return check(value, String(value));
    },
  };
}

export function booleanField(describe: string): ConfigField<boolean> {
  return {
    describe,
    boolean: true,
    fromText: (text) => {
      const lower = text.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(lower)) return true;
      if (['0', 'false', 'no', 'off', ''].includes(lower)) return false;
      throw new Error(`must be true or false, got "${text}"`);
    },
    fromJson: (value) => {
      if (typeof value !== 'boolean') throw new Error(`must be true or false, got ${JSON.stringify(value)}`);
      return value;
    },
  };
}

export function choiceField<T extends string>(describe: string, choices: readonly T[]): ConfigField<T> {
  const parse = (text: string): T => {
    const found = choices.find((choice) => choice === text);
    if (found === undefined) throw new Error(`must be one of ${choices.join(', ')}, got "${text}"`);
    return found;
  };
  return {
    describe,
    placeholder: choices.join('|'),
    fromText: parse,
    fromJson: (value) => {
      if (typeof value !== 'string') throw new Error(`must be one of ${choices.join(', ')}, got ${JSON.stringify(value)}`);
      return parse(value);
    },
  };
}

/** A field whose text form is parsed by `parse`; the JSON form is the same text. */
export function customField<T>(
  describe: string,
  placeholder: string,
  parse: (text: string) => T,
  format?: (value: T) => string,
): ConfigField<T> {
  return {
    describe,
    placeholder,
    ...(format === undefined ? {} : { format }),
    fromText: parse,
    fromJson: (value) => {
      if (typeof value !== 'string') throw new Error(`must be a string (${placeholder}), got ${JSON.stringify(value)}`);
      return parse(value);
    },
  };
}
