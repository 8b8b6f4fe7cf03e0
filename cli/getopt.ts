// getopt(3)'s argument forms, as vmctl accepts them: bundled flags (`stop -fw`,
// `start -cL`) and option values attached to their letter (`-m128M`,
// `-dqcow2:disk.img`). Each command declares its short options in getopt's
// syntax ("fwa", "b:B:cd:m:t:": a letter followed by ':' takes a value) and the
// long options that take a value; `expandArgs` rewrites argv into the separate
// form (`-f -w`, `-m 128M`) that the command handlers parse. Anything it does
// not recognise is left as it is, so the handler reports it in its own words.

export interface OptionSpec {
  /** Short options in getopt(3) syntax. */
  short: string;
  /** Long options (without the leading --) that take a value in the next word. */
  longWithValue?: string[];
}

/** Letters of `short` that take a value, and those that do not. */
function letters(short: string): { withValue: Set<string>; flags: Set<string> } {
  const withValue = new Set<string>();
  const flags = new Set<string>();
  for (let i = 0; i < short.length; i++) {
    const c = short[i];
    if (c === ':') continue;
    if (short[i + 1] === ':') withValue.add(c);
    else flags.add(c);
  }
  return { withValue, flags };
}

/**
 * Rewrites bundled and attached short options into separate words. A word
 * that follows an option taking a value is that value and is never split (so
 * `--cmdline -x` and `-b -weird-name` stay intact). `--` ends the options.
 */
export function expandArgs(args: string[], spec: OptionSpec): string[] {
  const { withValue, flags } = letters(spec.short);
  const longValue = new Set((spec.longWithValue ?? []).map((l) => `--${l}`));
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      out.push(...args.slice(i));
      break;
    }
    if (longValue.has(a)) {
      out.push(a);
      if (i + 1 < args.length) out.push(args[++i]);
      continue;
    }
    if (!a.startsWith('-') || a.startsWith('--') || a.length < 2) {
      out.push(a);
      continue;
    }
    // A short-option word: every letter must be known, or it is left alone.
    const split: string[] = [];
    let ok = true;
    let takesNext = false;
    for (let j = 1; j < a.length; j++) {
      const c = a[j];
      if (withValue.has(c)) {
        split.push(`-${c}`);
        if (j + 1 < a.length) split.push(a.slice(j + 1));
        else takesNext = true;
        break;
      }
      if (!flags.has(c)) {
        ok = false;
        break;
      }
      split.push(`-${c}`);
    }
    if (!ok) {
      out.push(a);
      continue;
    }
    out.push(...split);
    if (takesNext && i + 1 < args.length) out.push(args[++i]);
  }
  return out;
}

/** Whether `-h` or `--help` stands among the options of an expanded argv (not as
 * an option's value, and not after `--`): the command's usage is wanted. */
export function asksForHelp(args: string[], spec: OptionSpec | undefined): boolean {
  const { withValue } = letters(spec?.short ?? '');
  const longValue = new Set((spec?.longWithValue ?? []).map((l) => `--${l}`));
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') return false;
    if (a === '-h' || a === '--help') return true;
    if (longValue.has(a) || (a.length === 2 && a[0] === '-' && withValue.has(a[1]))) i++;
  }
  return false;
}

/**
 * vmctl's keyword rule for `log` and `reset`: a case-insensitive prefix of one
 * of the words (strncasecmp(word, arg, strlen(arg))), `log verb`, `reset ALL`.
 * Returns the word, or undefined for none (or an empty argument).
 */
export function matchKeyword<W extends string>(arg: string, words: readonly W[]): W | undefined {
  if (arg === '') return undefined;
  const a = arg.toLowerCase();
  return words.find((w) => w.startsWith(a));
}
