/**
 * Modules this thread is importing to find a task (`Task.resolve`, a worker's preloads). A worker
 * that is importing the module of the task it is about to run, with nothing else running, is
 * still bootstrapping, as Python says: a module that starts a process at its top level (a main
 * program without the `import.meta.main` guard) would have every worker import it and start
 * another one, without end, so `Child.spawn` refuses then (see `bootstrapping`), as Python's spawn
 * raises a RuntimeError.
 *
 * Lean on purpose (no imports): workers load it at boot.
 * @internal
 */

/** The modules being imported now (a module twice if two imports of it are under way). */
export const modules: Array<string> = []

/** Runs `load`, an import of `url`, counted in {@link modules}. */
export const track = async <A>(url: string, load: () => Promise<A>): Promise<A> => {
  modules.push(url)
  try {
    return await load()
  } finally {
    modules.splice(modules.lastIndexOf(url), 1)
  }
}

let callsRunning: (() => number) | undefined

/** Installed by a worker's runtime: how many calls run in it now. The main thread never bootstraps. */
export const setCallsRunning = (f: () => number): void => {
  callsRunning = f
}

/** The module whose import the worker is still bootstrapping with, if any: imports are under way
 * and every call running (at most one per import) is waiting for one. */
export const bootstrapping = (): string | undefined =>
  callsRunning !== undefined && modules.length > 0 && callsRunning() <= modules.length ? modules[0] : undefined
