import { afterEach, describe, expect, it } from "vitest"
import { ReplyPolling } from "@multiproc/runtime/internal/awake"

/** A clock for the requests (ms). */
let clock = 0
/** Sends `n` requests alone, each taking `ms(polled, sentAt)` and sent `gap` ms after the reply
 * before it; returns how many polled. */
const drive = (p: ReplyPolling, n: number, ms: (polled: boolean, sentAt: number) => number, gap = 1): number => {
  let polled = 0
  for (let i = 0; i < n; i++) {
    const awake = p.next()
    if (awake) polled++
    clock += gap
    const took = ms(awake, clock)
    p.measured(awake, took, clock)
    clock += took
  }
  return polled
}

describe("ReplyPolling: whether a request polls for its reply is measured", () => {
  const saved = process.env.MULTIPROC_POLL
  afterEach(() => {
    if (saved === undefined) delete process.env.MULTIPROC_POLL
    else process.env.MULTIPROC_POLL = saved
  })

  it("probes both ways in turn, then keeps polling when it is clearly faster (an idle VM)", () => {
    delete process.env.MULTIPROC_POLL
    const p = new ReplyPolling()
    // The probe: 13 without polling (the first left out), then 13 with.
    const ways: Array<boolean> = []
    for (let i = 0; i < 26; i++) {
      const awake = p.next()
      ways.push(awake)
      p.measured(awake, awake ? 0.012 : 0.08)
    }
    expect(ways).toEqual([...Array(13).fill(false), ...Array(13).fill(true)])
    // Then the kept way for the next 1,000 requests.
    expect(drive(p, 1000, (awake) => (awake ? 0.012 : 0.08))).toBe(1000)
    // And a new probe.
    expect(p.next()).toBe(false)
  })

  it("keeps sleeping when polling is not faster by a fifth (a loaded machine, or a slow server)", () => {
    delete process.env.MULTIPROC_POLL
    const p = new ReplyPolling()
    drive(p, 26, (awake) => (awake ? 0.09 : 0.1))
    // Kept for 25 ms of round trips.
    expect(drive(p, 250, () => 0.1)).toBe(0)
    // Sleeping kept, and it gets slower: a probe again once polling would have won by a fifth.
    const q = new ReplyPolling()
    drive(q, 26, (awake) => (awake ? 0.09 : 0.1))
    expect(drive(q, 8, () => 0.11)).toBe(0)
    expect(drive(q, 8, () => 0.12)).toBe(0)
    expect(drive(q, 26, () => 0.12)).toBe(13)
  })

  it("probes again early when the kept way becomes slower than the other way was", () => {
    delete process.env.MULTIPROC_POLL
    const p = new ReplyPolling()
    drive(p, 26, (awake) => (awake ? 0.012 : 0.08))
    // Polling kept; now the threads share a core: a polled round trip waits for the poller to give up.
    expect(drive(p, 8, () => 0.12)).toBe(8)
    // After 8 slow ones the probe starts again (without polling first), long before 1,000.
    expect(p.next()).toBe(false)
    drive(p, 26, (awake) => (awake ? 0.12 : 0.02))
    expect(drive(p, 100, (awake) => (awake ? 0.12 : 0.02))).toBe(0)
  })

  it("probes again when the kept way gets twice as slow as it was (the threads moved apart or together)", () => {
    delete process.env.MULTIPROC_POLL
    const p = new ReplyPolling()
    // Sharing a core: sleeping wins (the poller would hold up the thread it waits for).
    drive(p, 26, (awake) => (awake ? 0.12 : 0.02))
    expect(drive(p, 8, () => 0.03)).toBe(0)
    // The threads are on two cores now: each wake-up costs, sleeping takes 0.09, not 0.02.
    expect(drive(p, 8, () => 0.09)).toBe(0)
    expect(drive(p, 26, (awake) => (awake ? 0.015 : 0.09))).toBe(13)
    expect(drive(p, 100, (awake) => (awake ? 0.015 : 0.09))).toBe(100)
  })

  it("probes less often while the probes agree (up to every 8,000 requests)", () => {
    delete process.env.MULTIPROC_POLL
    const p = new ReplyPolling()
    // Fast enough that the requests, not the time they take, bound each kept way.
    const idle = (awake: boolean) => (awake ? 0.005 : 0.08)
    let first = true
    const keptFor = () => {
      // The probe (a previous round already sent its first request).
      drive(p, first ? 26 : 25, idle)
      first = false
      let n = 0
      while (p.next()) {
        n++
        p.measured(true, 0.005)
      }
      p.measured(false, 0.08)
      return n
    }
    expect([keptFor(), keptFor(), keptFor(), keptFor(), keptFor()]).toEqual([1000, 2000, 4000, 8000, 8000])
  })

  it("keeps a way for at most 25 ms of its round trips (50 while probes agree), so a choice made in a bad moment does not last", () => {
    delete process.env.MULTIPROC_POLL
    const p = new ReplyPolling()
    // Probed while the worker was still compiling: polling looked slow.
    drive(p, 26, (awake) => (awake ? 0.3 : 0.07))
    // Now polling would take 0.012, and sleeping 0.08: not slow enough for the watch to probe
    // again (twice 0.07), but 25 ms of it (313 requests) are.
    const now = (awake: boolean) => (awake ? 0.012 : 0.08)
    expect(drive(p, 313, now)).toBe(0)
    expect(drive(p, 26, now)).toBe(13)
    expect(drive(p, 100, now)).toBe(100)
  })

  it("a request sent while the server is still awake after a polled one is not taken for sleeping", () => {
    delete process.env.MULTIPROC_POLL
    const p = new ReplyPolling()
    // A server that stays awake 0.05 ms after answering a polled request, and answers at once
    // then (0.002), as when awake; asleep, waking it costs 0.08. Requests follow each other at once.
    let awakeUntil = -Infinity
    const server = (awake: boolean, sentAt: number) => {
      const took = awake ? 0.012 : sentAt < awakeUntil ? 0.002 : 0.08
      if (awake) awakeUntil = sentAt + took + 0.05
      return took
    }
    // The first probe, then polling kept for 1,000 requests.
    expect(drive(p, 26 + 1000, server, 0.001)).toBe(1013)
    // The next probe's first requests without polling find the server still awake: they are
    // not counted, and polling stays (it would have seemed 6 times slower than sleeping).
    drive(p, 60, server, 0.001)
    expect(drive(p, 100, server, 0.001)).toBe(100)
  })

  it("requests that were not measured alone do not count", () => {
    delete process.env.MULTIPROC_POLL
    const p = new ReplyPolling()
    // Pipelined requests: the way is asked, nothing measured; the probe stays where it was.
    for (let i = 0; i < 100; i++) expect(p.next()).toBe(false)
    drive(p, 26, (awake) => (awake ? 0.01 : 0.08))
    expect(p.next()).toBe(true)
  })

  it("MULTIPROC_POLL=never or always overrides the measurement", () => {
    process.env.MULTIPROC_POLL = "never"
    expect(drive(new ReplyPolling(), 2000, (awake) => (awake ? 0.001 : 1))).toBe(0)
    process.env.MULTIPROC_POLL = "always"
    expect(drive(new ReplyPolling(), 2000, (awake) => (awake ? 1 : 0.001))).toBe(2000)
  })
})
