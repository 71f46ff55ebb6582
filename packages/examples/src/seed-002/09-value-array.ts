// Seed 002, shared memory: a child sets a shared double `Value('d', 0.0)` to 3.1415927 and negates
// every element of a shared int `Array('i', range(10))`; the parent prints `3.1415927` and
// `[0, -1, -2, -3, -4, -5, -6, -7, -8, -9]`.
//
// The child is a worker thread (the default backend): it maps the same memory, so `n.value = x`
// and `a.set(i, x)` write it directly, as ctypes does. (A child *process* would get a handle
// served by this process and use the Effect functions `SharedValue.set`, `getItem`, `setItem`.)
// Python's `a[i]` is `a.get(i)` / `a.set(i, x)`, `len(a)` is `a.length`, `arr[:]` is `arr.slice()`.
import type * as SharedValue from "@multiproc/primitives/SharedValue"
import { Process } from "@multiproc/primitives/promise/Process"
import { Array, Value } from "@multiproc/primitives/promise/SharedValue"
import * as Task from "@multiproc/runtime/Task"
import { print, range } from "../internal/py.ts"

export const f = Task.make(import.meta, function f(n: SharedValue.Value<number>, a: SharedValue.Array<number>) {
  n.value = 3.1415927
  for (let i = 0; i < a.length; i++) {
    a.set(i, -a.get(i))
  }
})

if (import.meta.main) {
  const num = Value("d", 0.0)
  const arr = Array("i", range(10))

  const p = new Process({ target: f, args: [num, arr] })
  await p.start()
  await p.join()

  print(num.value)
  print(arr.slice())
}
