/**
 * Named shared memory for async/await code: `SharedMemory`, `ShareableList` and
 * `SharedMemoryManager` as thin classes over the Effect API (`SharedMemory`).
 *
 * Python equivalent: `multiprocessing.shared_memory` and `multiprocessing.managers.SharedMemoryManager`.
 *
 * @since 0.1.0
 */
import * as Codec from "@multiproc/runtime/Codec"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import { run } from "../internal/facade.ts"
import * as SM from "../SharedMemory.ts"

export { SharedMemoryError } from "../SharedMemory.ts"
export type { Item } from "../SharedMemory.ts"

const inspect = Symbol.for("nodejs.util.inspect.custom")

/** Python's `ShareableList(sequence)` argument: any iterable of items, or a ShareableList to copy. */
const sourceOf = (items: Iterable<SM.Item> | ShareableList | SM.ShareableList): SM.Source => items instanceof ShareableList ? items.list : items

/** Options of {@link SharedMemory.open}: Python's constructor arguments. */
export interface OpenOptions {
  readonly name?: string | undefined
  readonly create?: boolean | undefined
  readonly size?: number | undefined
}

/**
 * A handle on a named block of shared bytes.
 *
 * Python equivalent: `multiprocessing.shared_memory.SharedMemory`.
 *
 * @example
 * ```ts
 * import { SharedMemory } from "@multiproc/primitives/promise"
 * const block = await SharedMemory.create({ size: 16 })
 * block.buf[0] = 42
 * const again = await SharedMemory.attach(block.name)
 * console.log(again.buf[0]) // 42
 * again.close()
 * block.close()
 * await block.unlink()
 * ```
 * @category models
 * @since 0.1.0
 */
export class SharedMemory {
  /** The Effect-API handle. */
  readonly handle: SM.SharedMemory
  constructor(handle: SM.SharedMemory) {
    this.handle = handle
  }
  /** Python's `SharedMemory(name=None, create=True, size=n)`; `FileExists` for a taken name. */
  static async create(options: SM.CreateOptions): Promise<SharedMemory> {
    return new SharedMemory(await run(SM.create(options)))
  }
  /** Python's `SharedMemory(name)`; `FileNotFound` for an unknown name. */
  static async attach(name: string): Promise<SharedMemory> {
    return new SharedMemory(await run(SM.attach(name)))
  }
  /** Python's constructor as such: `create: true` creates, otherwise attaches to `name`. */
  static open(options: OpenOptions): Promise<SharedMemory> {
    if (options.create) return SharedMemory.create({ name: options.name, size: options.size ?? 0 })
    if (options.name === undefined) return Promise.reject(new SM.SharedMemoryError({ reason: "ValueError", message: "'name' can only be None if create=True" }))
    return SharedMemory.attach(options.name)
  }
  get name(): string {
    return this.handle.name
  }
  get size(): number {
    return this.handle.size
  }
  /** Whether this handle maps the memory itself. */
  get isShared(): boolean {
    return this.handle.isShared
  }
  get closed(): boolean {
    return this.handle.closed
  }
  /** Python's `buf`: the bytes themselves (`NotShared` on a handle served by another process). */
  get buf(): Uint8Array {
    return this.handle.buf
  }
  /** Copies bytes out (works on every handle). */
  read(offset = 0, length?: number): Promise<Uint8Array> {
    return run(this.handle.read(offset, length))
  }
  /** Writes bytes (works on every handle). */
  write(offset: number, bytes: Uint8Array): Promise<void> {
    return run(this.handle.write(offset, bytes))
  }
  /** Python's `close()`: detaches this handle; idempotent. */
  close(): void {
    this.handle.close()
  }
  /** Python's `unlink()`: removes the name; a second unlink rejects with `FileNotFound`. */
  unlink(): Promise<void> {
    return run(SM.unlink(this.handle))
  }
  [Symbol.dispose](): void {
    this.close()
  }
  toString(): string {
    return String(this.handle)
  }
}

/**
 * A fixed-length list of simple items (number, bigint, boolean, string, bytes, null) in one block.
 *
 * Python equivalent: `multiprocessing.shared_memory.ShareableList`.
 *
 * @example
 * ```ts
 * import { ShareableList } from "@multiproc/primitives/promise"
 * const sl = await ShareableList.create(["howdy", 42, -1.5, true, null])
 * await sl.set(1, 43)
 * console.log(await sl.get(1), await sl.toArray())
 * await sl.shm.unlink()
 * ```
 * @category models
 * @since 0.1.0
 */
export class ShareableList {
  /** The Effect-API list. */
  readonly list: SM.ShareableList
  constructor(list: SM.ShareableList) {
    this.list = list
  }
  /** Python's `ShareableList(sequence, name=None)`: any iterable (a string gives its characters),
   * or another ShareableList to copy. */
  static async create(items: Iterable<SM.Item> | ShareableList, options: { readonly name?: string } = {}): Promise<ShareableList> {
    return new ShareableList(await run(SM.shareableList(sourceOf(items), options)))
  }
  /** Python's `ShareableList(name=name)`. */
  static async attach(name: string): Promise<ShareableList> {
    return new ShareableList(await run(SM.attachList(name)))
  }
  /** The block the list lives in. */
  get shm(): SharedMemory {
    return new SharedMemory(this.list.shm)
  }
  get length(): number {
    return this.list.length
  }
  /** `sl[i]`; rejects with `IndexError` out of range, `TypeError` for an index that is no integer. */
  get(i: number): Promise<SM.Item> {
    return run(this.list.get(i))
  }
  /** `sl[i] = v`; a str / bytes longer than the slot rejects with `ValueError`. */
  set(i: number, v: SM.Item): Promise<void> {
    return run(this.list.set(i, v))
  }
  toArray(): Promise<Array<SM.Item>> {
    return run(this.list.toArray())
  }
  /** Python's `count(value)`. */
  count(v: SM.Item): Promise<number> {
    return run(this.list.count(v))
  }
  /** Python's `index(value)`; rejects with `ValueError` when absent. */
  index(v: SM.Item): Promise<number> {
    return run(this.list.indexOf(v))
  }
  /** Python's `format`: the struct format of the items stored now (`await sl.format`). */
  get format(): Promise<string> {
    return run(this.list.format)
  }
  /** Python's `repr`: `ShareableList(['a', 1], name='psm_…')` (`<remote>` items in a process that
   * does not share the memory). */
  toString(): string {
    return String(this.list)
  }
  [inspect](): string {
    return this.toString()
  }
}

/**
 * Creates blocks and lists that are all unlinked at `shutdown()` (or `await using`).
 *
 * Python equivalent: `multiprocessing.managers.SharedMemoryManager`.
 *
 * @example
 * ```ts
 * import { SharedMemoryManager } from "@multiproc/primitives/promise"
 * await using smm = await SharedMemoryManager.start()
 * const block = await smm.SharedMemory(128)
 * const sl = await smm.ShareableList([1, 2, 3])
 * ```
 * @category models
 * @since 0.1.0
 */
export class SharedMemoryManager {
  /** The Effect-API manager. */
  readonly manager: SM.SharedMemoryManager
  private readonly scope: Scope.Closeable
  private constructor(manager: SM.SharedMemoryManager, scope: Scope.Closeable) {
    this.manager = manager
    this.scope = scope
  }
  /** Python's `SharedMemoryManager().start()`. */
  static async start(): Promise<SharedMemoryManager> {
    const scope = Scope.makeUnsafe()
    return new SharedMemoryManager(await run(Scope.provide(scope)(SM.manager())), scope)
  }
  /** Python's `smm.SharedMemory(size)`. */
  async SharedMemory(size: number): Promise<SharedMemory> {
    return new SharedMemory(await run(this.manager.sharedMemory(size)))
  }
  /** Python's `smm.ShareableList(sequence)`. */
  async ShareableList(items: Iterable<SM.Item> | ShareableList): Promise<ShareableList> {
    return new ShareableList(await run(this.manager.shareableList(sourceOf(items))))
  }
  /** The names it created and has not unlinked yet. */
  names(): ReadonlyArray<string> {
    return this.manager.names()
  }
  /** Python's `shutdown()`: unlinks every block it created; idempotent. */
  shutdown(): Promise<void> {
    return Effect.runPromise(Scope.close(this.scope, Exit.void))
  }
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown()
  }
}

Codec.register<SharedMemory>({ tag: "multiproc/promise/SharedMemory", Class: SharedMemory, encode: (m) => m.handle, decode: (h: SM.SharedMemory) => new SharedMemory(h) })
Codec.register<ShareableList>({ tag: "multiproc/promise/ShareableList", Class: ShareableList, encode: (l) => l.list, decode: (l: SM.ShareableList) => new ShareableList(l) })
