// Tasks of the pool benchmark. Plain functions wrapped as Tasks: our pool calls them by
// reference; piscina and tinypool call the same exports by name. No `effect` import (the
// package barrel would load it in every worker: see the README).
import * as Task from "@multiproc/runtime/Task"

export const square = Task.make(import.meta, function square(x: number) {
  return x * x
})

/**
 * Seed 003's heavy(n): x ** y for x, y in 1..n-1. Python computes exact bigints; here the same
 * loop runs on doubles (Math.pow), the CPU work the node peers benchmark used: BigInt x ** y
 * takes ~1.1 s per heavy(500) on this machine, too slow to run 80 of them sequentially per repeat.
 */
export const heavy = Task.make(import.meta, function heavy(n: number) {
  let acc = 0
  for (let x = 1; x < n; x++) {
    for (let y = 1; y < n; y++) acc += x ** y > 1e300 ? 1 : 0
  }
  return acc
})
