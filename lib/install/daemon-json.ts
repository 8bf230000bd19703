// /etc/docker/daemon.json: register the runcvm runtime without disturbing anything else.
// Pure: text in, text out. The installer reads the file and writes the result atomically.
import { ConfigError } from '../errors.js'

export interface MergeResult {
  /** The text to write (identical to the input when nothing changed). */
  text: string
  /** false when `runtimes.runcvm.path` (and `default-runtime` if asked for) already had the wanted value (file left as it is). */
  changed: boolean
  /** The `default-runtime` the text had before, when the merge replaced another runtime's name. */
  replacedDefault?: string
}

/** The name the installer registers RunCVM under in `runtimes`. */
export const RUNTIME_NAME = 'runcvm'

type JsonObject = Record<string, unknown>

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * Set `runtimes.runcvm.path = runtimePath` in the daemon.json text `jsonText`.
 *
 * Every other key (other runtimes, `runtimes.runcvm.runtimeArgs`, unrelated daemon options) is
 * kept. The check is on parsed values, so whitespace or key order never makes an up-to-date file
 * "changed". An empty (or whitespace-only) file counts as `{}`; dockerd itself treats an empty
 * file as no configuration. Throws ConfigError for malformed JSON, a top level that is not an
 * object, or a `runtimes`/`runtimes.runcvm` that is not an object: the caller must then leave the
 * file untouched.
 *
 * With `setDefault` (the installer's --default-runtime) `default-runtime` becomes "runcvm" too, so
 * containers that cannot name a runtime (Swarm service tasks) run as VMs; a previous value that is
 * not a string is refused like a malformed `runtimes`. Without it `default-runtime` is never touched.
 *
 * Differs from runcvm-install-runtime.sh: upstream ran `jq` and, on bad JSON, printed jq's error
 * and exited after possibly having created a temp file; we validate first and write once.
 */
export function mergeRuntime(jsonText: string, runtimePath: string, source = 'daemon.json', opts: { setDefault?: boolean } = {}): MergeResult {
  let doc: unknown
  if (jsonText.trim() === '') {
    doc = {}
  } else {
    try {
      doc = JSON.parse(jsonText)
    } catch (e) {
      throw new ConfigError(`${source} is not valid JSON (${(e as Error).message}); fix it by hand, it was left untouched`)
    }
  }
  if (!isObject(doc)) {
    throw new ConfigError(`${source} must hold a JSON object at the top level, found ${describe(doc)}; it was left untouched`)
  }
  const runtimes = doc.runtimes ?? {}
  if (!isObject(runtimes)) {
    throw new ConfigError(`${source}: "runtimes" must be an object, found ${describe(runtimes)}; it was left untouched`)
  }
  const runcvm = runtimes.runcvm ?? {}
  if (!isObject(runcvm)) {
    throw new ConfigError(`${source}: "runtimes.runcvm" must be an object, found ${describe(runcvm)}; it was left untouched`)
  }
  const prevDefault = doc['default-runtime']
  if (opts.setDefault && prevDefault !== undefined && typeof prevDefault !== 'string') {
    throw new ConfigError(`${source}: "default-runtime" must be a string, found ${describe(prevDefault)}; it was left untouched`)
  }
  const defaultOk = !opts.setDefault || prevDefault === RUNTIME_NAME
  if (runcvm.path === runtimePath && defaultOk) return { text: jsonText, changed: false }
  const out: JsonObject = { ...doc, runtimes: { ...runtimes, [RUNTIME_NAME]: { ...runcvm, path: runtimePath } } }
  if (opts.setDefault) out['default-runtime'] = RUNTIME_NAME
  const replacedDefault = !defaultOk && typeof prevDefault === 'string' ? prevDefault : undefined
  return { text: JSON.stringify(out, null, 2) + '\n', changed: true, ...(replacedDefault ? { replacedDefault } : {}) }
}

/** The `default-runtime` in a daemon.json text, or undefined (never throws). */
export function defaultRuntimeIn(jsonText: string): string | undefined {
  try {
    const d = (JSON.parse(jsonText) as Record<string, unknown> | null)?.['default-runtime']
    return typeof d === 'string' ? d : undefined
  } catch {
    return undefined
  }
}

/** The path of runtime `name` (default runcvm) in a daemon.json text, or undefined (never throws). */
export function runtimePathIn(jsonText: string, name = 'runcvm'): string | undefined {
  try {
    const doc = JSON.parse(jsonText) as { runtimes?: Record<string, { path?: unknown } | undefined> }
    const p = doc?.runtimes?.[name]?.path
    return typeof p === 'string' ? p : undefined
  } catch {
    return undefined
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  return `a ${typeof v}`
}

/**
 * Remove `runtimes.<name>` from the daemon.json text (uninstall). Other runtimes and keys are kept;
 * a `runtimes` object left empty is removed too, and so is a `default-runtime` naming it (set by
 * --default-runtime: dockerd refuses a default runtime it does not know). Unchanged (changed:
 * false) when there is no such entry or the text is empty. Malformed JSON throws ConfigError, as mergeRuntime does.
 */
export function removeRuntime(jsonText: string, name = 'runcvm', source = 'daemon.json'): MergeResult {
  if (jsonText.trim() === '') return { text: jsonText, changed: false }
  let doc: unknown
  try { doc = JSON.parse(jsonText) } catch (e) {
    throw new ConfigError(`${source} is not valid JSON (${(e as Error).message}); fix it by hand, it was left untouched`)
  }
  if (!isObject(doc) || !isObject(doc.runtimes) || !(name in doc.runtimes)) return { text: jsonText, changed: false }
  const { [name]: _gone, ...rest } = doc.runtimes
  const { runtimes: _old, ...others } = doc
  if (others['default-runtime'] === name) delete others['default-runtime']
  const out: JsonObject = Object.keys(rest).length ? { ...others, runtimes: rest } : others
  return { text: JSON.stringify(out, null, 2) + '\n', changed: true }
}
