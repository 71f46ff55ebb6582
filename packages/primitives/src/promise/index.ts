/**
 * The async/await facade of @multiproc/primitives: Python's names, promises instead of Effects.
 * Each class runs the Effect API; nothing is implemented twice.
 *
 * @since 0.1.0
 */
export { activeChildren, cpuCount, currentProcess, parentProcess, Process } from "./Process.ts"
export { Manager, promisify } from "./Manager.ts"
