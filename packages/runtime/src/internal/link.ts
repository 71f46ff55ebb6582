/**
 * A Link carries messages between two processes over one OS channel (a worker's port or a child
 * process's IPC pipe). Messages sent in the same tick are packed into one batch: one msgpackr
 * buffer, one `postMessage` or IPC write. Encoding happens at `send`, so a value that cannot cross
 * fails there, at the sender, and nothing else in the batch is affected.
 * @internal
 */
import { type DecodeContext, type EncodeContext, isPlainArray, packBatchView, prepareValue, restoreValue, unpackBatch } from "./codec.ts"

/** The raw channel under a Link. */
export interface Endpoint {
  /** Whether SharedArrayBuffers and MessagePorts can travel beside the bytes (threads only). */
  readonly sharesMemory: boolean
  /** Writes one batch. `bytes` is only valid during the call (it is the codec's own buffer). */
  post(bytes: Buffer, shared: Array<unknown> | undefined, done?: () => void): void
  /** Writes plain messages as they are (one, or a small batch as an array of them; see
   * `Link.send`); `done` as for `post`. */
  postPlain(message: ReadonlyArray<unknown>, done?: () => void): void
  /** Runs `done` once everything posted so far was handed to the OS (writes may be queued). */
  drained?(done: () => void): void
}

/**
 * How a batch's bytes travel. Small batches go as a one-byte string holding the bytes (V8 clones
 * a flat string faster than a typed array: measured ~2 µs less per round trip), large ones as a
 * fresh buffer (transferred between threads, so never copied twice).
 */
const SMALL = 8192
const frame = (bytes: Buffer): string | Uint8Array =>
  bytes.byteLength <= SMALL ? bytes.toString("latin1", 0, bytes.byteLength) : new Uint8Array(bytes)

/** The bytes of a received frame. */
const unframe = (data: string | Uint8Array): Uint8Array => typeof data === "string" ? Buffer.from(data, "latin1") : data

const MAX_BATCH = 4096
/** Larger all-plain batches are packed: msgpackr beats structured clone on many small messages. */
const MAX_PLAIN_BATCH = 16

export class Link {
  readonly endpoint: Endpoint
  onMessage: (message: unknown) => void
  onDecodeError: (error: unknown) => void = () => {}
  private pending: Array<unknown> = []
  /** Whether every pending message is plain: a small batch of them goes as it is. */
  private pendingPlain = true
  private shared: Array<unknown> | undefined
  private scheduled = false
  private readonly ctx: { shared: Array<unknown> | undefined }
  closed = false
  /** Counters: batches written and messages sent (for tests and statistics). */
  batches = 0
  messages = 0

  constructor(endpoint: Endpoint, onMessage: (message: unknown) => void) {
    this.endpoint = endpoint
    this.onMessage = onMessage
    this.shared = endpoint.sharesMemory ? [] : undefined
    this.ctx = { shared: this.shared }
  }

  /** Queues a message for the next batch; throws `CodecError` if it cannot be encoded. `plain`:
   * whether it is plain, when the sender already knows (see below). `later`: the message waits
   * for the end of the tick even when it is the tick's first (see `kernel.send`). */
  send(message: unknown, plain: boolean = typeof (message as any)?.[0] === "number" && isPlainArray(message, 3), later = false): void {
    if (this.closed) return
    // A plain message (a protocol tuple with plain arguments or result) goes as it is: the
    // channel's structured clone carries it exactly, and neither end needs msgpackr (2.5-4 µs
    // less per round trip between threads, measured; a worker whose traffic is all plain never
    // loads it). Its first element, a number, tells it from a frame.
    if (plain && !this.scheduled && !later) {
      this.scheduled = true
      queueMicrotask(this.flushTask)
      this.messages++
      this.batches++
      this.endpoint.postPlain(message as ReadonlyArray<unknown>)
      return
    }
    if (plain && this.pendingPlain) this.pending.push(message)
    else {
      const ctx: EncodeContext = this.ctx
      const mark = this.shared?.length ?? 0
      let prepared: unknown
      try {
        prepared = prepareValue(message, ctx)
      } catch (e) {
        if (this.shared) this.shared.length = mark
        throw e
      }
      if (this.pendingPlain) this.preparePending()
      this.pending.push(prepared)
    }
    this.messages++
    if (!this.scheduled) {
      // The first message of a tick goes at once (a lone request or reply waits for nothing);
      // the ones after it in the same tick are batched.
      this.scheduled = true
      queueMicrotask(this.flushTask)
      if (!later) this.flush()
    } else if (this.pending.length >= MAX_BATCH) this.flush()
  }

  private readonly flushTask = () => {
    this.scheduled = false
    this.flush()
  }

  /** Writes the pending batch now; `done` runs once the OS channel took it. */
  flush(done?: () => void): void {
    if (this.pending.length === 0 || this.closed) {
      if (done) {
        if (this.endpoint.drained && !this.closed) this.endpoint.drained(done)
        else done()
      }
      return
    }
    if (this.pendingPlain && this.pending.length <= MAX_PLAIN_BATCH) {
      const batch = this.pending
      this.pending = []
      this.batches++
      this.endpoint.postPlain(batch, done)
      return
    }
    if (this.pendingPlain) this.preparePending()
    const batch = this.pending
    this.pending = []
    this.pendingPlain = true
    this.batches++
    const shared = this.shared
    if (shared) {
      this.shared = []
      this.ctx.shared = this.shared
    }
    this.endpoint.post(packBatchView(batch), shared && shared.length > 0 ? shared : undefined, done)
  }

  /** The plain messages queued as they are are prepared for msgpackr after all (a walk keeps
   * shared references, which msgpackr alone would copy). */
  private preparePending(): void {
    const pending = this.pending
    for (let i = 0; i < pending.length; i++) {
      const m = pending[i] as Array<unknown>
      // Only an inner array can be shared: a flat message is ready as it is.
      for (let j = 0; j < m.length; j++) {
        if (Array.isArray(m[j])) {
          pending[i] = prepareValue(m, this.ctx)
          break
        }
      }
    }
    this.pendingPlain = false
  }

  /** Feeds bytes received from the endpoint. */
  receive(bytes: Uint8Array, shared: ReadonlyArray<unknown> | undefined): void {
    let batch: Array<unknown>
    try {
      batch = unpackBatch(bytes)
    } catch (e) {
      this.onDecodeError(e)
      return
    }
    const ctx: DecodeContext = { shared }
    for (let i = 0; i < batch.length; i++) {
      let message: unknown
      try {
        message = restoreValue(batch[i], ctx)
      } catch (e) {
        this.onDecodeError(e)
        continue
      }
      this.onMessage(message)
    }
  }

  close(): void {
    this.closed = true
    this.pending = []
    this.pendingPlain = true
  }
}

/** Reads what an endpoint received: a frame, `[frame, shared]` (threads), a plain message, or a
 * batch of plain messages. */
export const receiveData = (link: Link, data: unknown): void => {
  if (typeof data === "string" || data instanceof Uint8Array) link.receive(unframe(data), undefined)
  else if (Array.isArray(data)) {
    const head = data[0]
    if (typeof head === "number") link.onMessage(data)
    else if (Array.isArray(head)) for (let i = 0; i < data.length; i++) link.onMessage(data[i])
    else link.receive(unframe(head), data[1])
  }
}

/** An endpoint over anything with `postMessage` (a Worker, a MessagePort, `parentPort`). */
export const portEndpoint = (port: { postMessage(value: unknown, transfer?: ReadonlyArray<any>): void }): Endpoint => ({
  sharesMemory: true,
  post(bytes, shared, done) {
    const data = frame(bytes)
    const transfer: Array<any> = typeof data === "string" ? [] : [data.buffer]
    if (shared) {
      for (const s of shared) if ((s as any)?.constructor?.name === "MessagePort") transfer.push(s)
      port.postMessage([data, shared], transfer)
    } else {
      port.postMessage(data, transfer)
    }
    done?.()
  },
  postPlain(message, done) {
    port.postMessage(message)
    done?.()
  }
})

/** An endpoint over a Node IPC channel (`ChildProcess` in the parent, `process` in the child). */
export const ipcEndpoint = (channel: { send?: ((message: any, callback: (error: Error | null) => void) => boolean) | undefined; connected?: boolean | undefined }): Endpoint => {
  // Writes the OS has not taken yet: a process must not exit before they are out.
  let inflight = 0
  let waiters: Array<() => void> = []
  const settled = () => {
    inflight--
    if (inflight === 0 && waiters.length > 0) {
      const ws = waiters
      waiters = []
      for (const w of ws) w()
    }
  }
  return {
    sharesMemory: false,
    post(bytes, _shared, done) {
      if (!channel.connected || !channel.send) {
        done?.()
        return
      }
      inflight++
      // A callback keeps a closed channel's error from being thrown or emitted.
      channel.send(frame(bytes), () => {
        settled()
        done?.()
      })
    },
    postPlain(message, done) {
      if (!channel.connected || !channel.send) {
        done?.()
        return
      }
      inflight++
      channel.send(message, () => {
        settled()
        done?.()
      })
    },
    drained(done) {
      if (inflight === 0 || !channel.connected) done()
      else waiters.push(done)
    }
  }
}
