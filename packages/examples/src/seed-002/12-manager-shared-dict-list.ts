// Seed 002, shared list and dict (notebook cells, run at the top level): ten processes each set
// `mgr_dict[i] = i * 2` and append i to `mgr_list`; the parent prints
// "Results:", "字典 {0: 0, 1: 2, …, 9: 18}" and "列表 [0, 1, …, 9]" (字典 = dict, 列表 = list).
// The entries come in the order the processes ran, in Python too: usually, not always, 0 to 9.
//
// As in the seed, each `multiprocessing.Manager()` starts its own server (two here), and neither
// is shut down explicitly: Python does it at exit, and an idle manager here does not keep the
// program alive either. Tasks must be defined at a module's top level (workers import this module
// to find them), so the "cells" are the main block.
import type * as M from "@multiproc/primitives/Manager"
import { Manager } from "@multiproc/primitives/promise/Manager"
import { Process } from "@multiproc/primitives/promise/Process"
import * as Task from "@multiproc/runtime/Task"
import { print, range } from "../internal/py.ts"
import { proxy, type Shared } from "../internal/shared.ts"

export const worker = Task.make(
  import.meta,
  async function worker(mgrDict: Shared<M.DictProxy<number, number>>, mgrList: Shared<M.ListProxy<number>>, key: number, value: number) {
    await proxy(mgrDict).set(key, value)
    await proxy(mgrList).append(key)
  }
)

if (import.meta.main) {
  const mgrDict = await (await Manager.start()).dict<number, number>() // shared by the parent and the children
  const mgrList = await (await Manager.start()).list<number>() // shared by the parent and the children
  const jobs = range(10).map((i) => new Process({ target: worker, args: [mgrDict, mgrList, i, i * 2] }))
  for (const j of jobs) await j.start()
  for (const j of jobs) await j.join()
  print("Results:")
  print("字典", await mgrDict.getvalue())
  print("列表", await mgrList.getvalue())
}
