// Seed 002, shared memory: a child sets a shared double `Value('d', 0.0)` to 3.1415927 and negates
// every element of a shared int `Array('i', range(10))`; the parent prints `3.1415927` and
// `[0, -1, -2, -3, -4, -5, -6, -7, -8, -9]`.
//
// `Value` and `Array` are classes here (`new`); an Array is indexable (`a[i]`, `a[i] = x`,
// `a.length`), and Python's `arr[:]` is `arr.slice()`. The child is a worker thread (the default
// backend): it maps the same memory, so it writes it directly, as ctypes does. (A child *process*
// gets a handle served by this process and uses the promise methods: `await n.set(x)`,
// `await a.getItem(i)`, `await a.setItem(i, x)`.)
import { Array, Value } from "@multiproc/primitives/promise/SharedValue"
import { Process } from "@multiproc/primitives/promise/Process"
import * as Task from "@multiproc/runtime/Task"
import { print, range } from "../internal/py.ts"

export const f = Task.make(import.meta, function f(n: Value<number>, a: Array<number>) {
  n.value = 3.1415927
  for (let i = 0; i < a.length; i++) {
    a[i] = -a[i]!
  }
})

if (import.meta.main) {
  const num = new Value("d", 0.0)
  const arr = new Array("i", range(10))

  const p = new Process({ target: f, args: [num, arr] })
  await p.start()
  await p.join()

  print(num.value)
  print(arr.slice())
}
