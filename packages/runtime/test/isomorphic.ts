// Deep equality that also checks the shape of sharing: where `a` reuses an object, `b` must reuse
// the corresponding one (shared references and cycles), and -0, NaN, holes and types must match.
export const isomorphic = (a: unknown, b: unknown): string | undefined => {
  const seen = new Map<object, object>()
  const go = (x: unknown, y: unknown, path: string): string | undefined => {
    if (typeof x !== typeof y) return `${path}: type ${typeof x} vs ${typeof y}`
    if (typeof x !== "object" || x === null || y === null) {
      return Object.is(x, y) ? undefined : `${path}: ${String(x)} vs ${String(y)}`
    }
    const xo = x as object
    const yo = y as object
    const mapped = seen.get(xo)
    if (mapped !== undefined) return mapped === yo ? undefined : `${path}: sharing differs`
    seen.set(xo, yo)
    if (Object.getPrototypeOf(xo)?.constructor !== Object.getPrototypeOf(yo)?.constructor) {
      return `${path}: class ${xo.constructor?.name} vs ${yo.constructor?.name}`
    }
    if (xo instanceof Date) return Object.is(xo.getTime(), (yo as Date).getTime()) ? undefined : `${path}: date`
    if (xo instanceof RegExp) return String(xo) === String(yo) ? undefined : `${path}: regexp`
    if (xo instanceof ArrayBuffer) {
      const u = new Uint8Array(xo)
      const v = new Uint8Array(yo as ArrayBuffer)
      return u.length === v.length && u.every((b, i) => b === v[i]) ? undefined : `${path}: buffer`
    }
    if (ArrayBuffer.isView(xo)) {
      const yv = yo as ArrayBufferView
      if (xo.byteOffset !== yv.byteOffset || xo.byteLength !== yv.byteLength) return `${path}: view bounds`
      return go(xo.buffer, yv.buffer, `${path}.buffer`)
    }
    if (xo instanceof Map) {
      const ym = yo as Map<unknown, unknown>
      if (xo.size !== ym.size) return `${path}: map size`
      const xe = [...xo]
      const ye = [...ym]
      for (let i = 0; i < xe.length; i++) {
        const r = go(xe[i]![0], ye[i]![0], `${path}<key ${i}>`) ?? go(xe[i]![1], ye[i]![1], `${path}<value ${i}>`)
        if (r) return r
      }
      return undefined
    }
    if (xo instanceof Set) {
      const xe = [...xo]
      const ye = [...(yo as Set<unknown>)]
      if (xe.length !== ye.length) return `${path}: set size`
      for (let i = 0; i < xe.length; i++) {
        const r = go(xe[i], ye[i], `${path}<${i}>`)
        if (r) return r
      }
      return undefined
    }
    if (xo instanceof Error) {
      const ye = yo as Error
      if (xo.message !== ye.message) return `${path}: error message`
    }
    if (Array.isArray(xo) !== Array.isArray(yo)) return `${path}: array vs object`
    if (Array.isArray(xo) && xo.length !== (yo as Array<unknown>).length) return `${path}: length`
    const xk = Object.keys(xo)
    const yk = Object.keys(yo)
    if (xk.length !== yk.length || xk.some((k, i) => k !== yk[i])) return `${path}: keys ${xk} vs ${yk}`
    for (const k of xk) {
      const r = go((xo as any)[k], (yo as any)[k], `${path}.${k}`)
      if (r) return r
    }
    if (xo instanceof Number || xo instanceof String || xo instanceof Boolean) {
      return Object.is(xo.valueOf(), (yo as any).valueOf()) ? undefined : `${path}: boxed`
    }
    return undefined
  }
  return go(a, b, "$")
}
