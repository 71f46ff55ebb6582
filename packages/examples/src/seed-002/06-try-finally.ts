// Seed 002, an aside on Python's try / except / finally (no multiprocessing): read an integer
// from t1.txt; any error prints 未知错误！ ("unknown error"); the file name is printed in any case.
// With no t1.txt in the working directory it prints 未知错误！ then t1.txt, as in the seed.
// An optional argument replaces the path.
import { readFileSync } from "node:fs"
import { int, print } from "../internal/py.ts"

const filePath = process.argv[2] ?? "t1.txt"
try {
  const strContent = readFileSync(filePath, "utf8")
  const a = int(strContent) // Python's int(): throws on anything but an integer
  print(a)
} catch {
  print("未知错误！")
} finally {
  print(filePath)
}
