// Planned commands and the shell words they become. Pure: the plan* functions return Cmd[] and
// build shell text with these quoting rules; lib/sh.ts is the one place that runs them.

/** One command: argv[0] is the absolute path of the binary. */
export type Cmd = readonly string[]

/** POSIX sh single-quoting: exact for any string without NUL (also inside assignments). */
export const shQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`

/** Quote one word for a POSIX shell, only when it needs it (readable logs and scripts). */
export const shWord = (w: string): string => (/^[\w.:/@+=,-]+$/.test(w) ? w : shQuote(w))

/** Quote one word for `ip -batch` (its tokenizer understands double quotes and backslashes). */
export const batchWord = (w: string): string => (/^[\w.:/@+=-]+$/.test(w) ? w : `"${w.replace(/(["\\])/g, '\\$1')}"`)
