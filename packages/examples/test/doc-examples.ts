/**
 * The documentation's examples, type-checked against the real packages.
 *
 * Every ```ts block of every `@example` in `packages/*\/src/**\/*.ts`, and the ```ts blocks of
 * README.md and docs/api.md, becomes a virtual module next to this file (so `@multiproc/...` and
 * `effect` resolve as they do for `packages/examples`) and all of them are checked by one
 * TypeScript program with the repository's compiler options.
 *
 * A snippet is a fragment, so each gets the same small harness and nothing else:
 * - a snippet with a top-level `yield*` has its statements (imports, `declare`s, interfaces and
 *   type aliases excepted) wrapped in `Effect.gen(function*() { ... })`;
 * - a name the snippet uses but neither imports nor declares is imported when it is the module the
 *   example lives in (`Queue` in `Queue.ts`, the classes of `promise/Queue.ts`), another module of
 *   `@multiproc/primitives` (`@multiproc/primitives/promise` in a promise file) or
 *   `@multiproc/runtime`, or one of a few `effect` modules (`Effect`, `Schema`, ...);
 * - anything else the snippet does not define is an error: an example declares what it assumes
 *   (`declare const q: Queue.Queue<number>`), so no value is ever typed `any` by the harness.
 *
 * Run alone: `node_modules/.bin/node packages/examples/test/doc-examples.ts` (prints the failures).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import ts from "typescript"

export interface Example {
  /** The file the example is in, relative to the repository root. */
  readonly file: string
  /** The 1-based line of the snippet's first line in that file. */
  readonly line: number
  readonly code: string
  /** A markdown block whose first line is `// name.ts ...` is that file: the doc's other blocks
   * may import it (`./name.ts`). */
  readonly name?: string
}

export interface Failure {
  readonly example: Example
  /** `file:line: message` for each diagnostic, at the line of the original file. */
  readonly messages: ReadonlyArray<string>
}

export const root = path.resolve(import.meta.dirname, "../../..")

const walk = (dir: string): Array<string> =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name)
    return e.isDirectory() ? (e.name === "node_modules" ? [] : walk(p)) : e.name.endsWith(".ts") ? [p] : []
  })

/** The ```ts blocks of the `@example` tags of one source file (JSDoc lines stripped of ` * `). */
export const fromSource = (file: string, text: string): Array<Example> => {
  const lines = text.split("\n")
  const out: Array<Example> = []
  let inExample = false
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!
    if (/^\s*\*\s*@example\b/.test(l)) inExample = true
    else if (/^\s*\*\s*@\w/.test(l) || /\*\//.test(l)) inExample = false
    if (inExample && /^\s*\*\s*```ts\s*$/.test(l)) {
      const body: Array<string> = []
      let j = i + 1
      for (; j < lines.length && !/^\s*\*\s*```\s*$/.test(lines[j]!); j++) {
        body.push(lines[j]!.replace(/^\s*\* ?/, ""))
      }
      out.push({ file, line: i + 2, code: body.join("\n") })
      i = j
    }
  }
  return out
}

/** The ```ts blocks of a markdown file. */
export const fromMarkdown = (file: string, text: string): Array<Example> => {
  const lines = text.split("\n")
  const out: Array<Example> = []
  for (let i = 0; i < lines.length; i++) {
    if (/^```ts\s*$/.test(lines[i]!)) {
      const body: Array<string> = []
      let j = i + 1
      for (; j < lines.length && !/^```\s*$/.test(lines[j]!); j++) body.push(lines[j]!)
      const name = /^\/\/ ([\w-]+\.ts)\b/.exec(body[0] ?? "")?.[1]
      out.push({ file, line: i + 2, code: body.join("\n"), ...(name === undefined ? {} : { name }) })
      i = j
    }
  }
  return out
}

export const collect = (): Array<Example> => {
  const sources = fs.readdirSync(path.join(root, "packages")).flatMap((pkg) => {
    const src = path.join(root, "packages", pkg, "src")
    return fs.existsSync(src) ? walk(src) : []
  }).sort()
  const rel = (f: string) => path.relative(root, f)
  return [
    ...sources.flatMap((f) => fromSource(rel(f), fs.readFileSync(f, "utf8"))),
    ...["README.md", "docs/api.md"].flatMap((f) => fromMarkdown(f, fs.readFileSync(path.join(root, f), "utf8")))
  ]
}

// ---- imports the harness may add ------------------------------------------------------------------

const namespaceExports = (file: string): Array<string> =>
  [...fs.readFileSync(file, "utf8").matchAll(/export \* as (\w+)/g)].map((m) => m[1]!)

/** The names exported by a promise-facade module (`export class X`, `export { X, type Y }`, ...). */
const namedExports = (file: string): Array<string> => {
  const sf = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.Latest)
  const names: Array<string> = []
  for (const s of sf.statements) {
    const exported = ts.canHaveModifiers(s) && ts.getModifiers(s)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)
    if (ts.isExportDeclaration(s) && s.exportClause && ts.isNamedExports(s.exportClause)) {
      for (const e of s.exportClause.elements) names.push(e.name.text)
    } else if (exported && (ts.isClassDeclaration(s) || ts.isFunctionDeclaration(s) || ts.isInterfaceDeclaration(s) || ts.isTypeAliasDeclaration(s)) && s.name) {
      names.push(s.name.text)
    } else if (exported && ts.isVariableStatement(s)) {
      for (const d of s.declarationList.declarations) if (ts.isIdentifier(d.name)) names.push(d.name.text)
    }
  }
  return names
}

/** `effect` modules a snippet may use without importing them (none shares a name with ours). */
const effectModules = [
  "Cause", "Clock", "Console", "Context", "Data", "Deferred", "Duration", "Effect", "Exit", "Fiber", "Layer",
  "Option", "Ref", "Result", "Schedule", "Schema", "Scope", "Stream"
]

interface Importer {
  (name: string): string | undefined
}

/** Where a name missing from a snippet of `file` comes from, by priority. */
const importerFor = (() => {
  const pkgs = path.join(root, "packages")
  const primitives = namespaceExports(path.join(pkgs, "primitives/src/index.ts"))
  const runtime = namespaceExports(path.join(pkgs, "runtime/src/index.ts"))
  const promise = namedExports(path.join(pkgs, "primitives/src/promise/index.ts"))
  const cache = new Map<string, Importer>()
  return (file: string): Importer => {
    let importer = cache.get(file)
    if (importer !== undefined) return importer
    const m = /^packages\/(primitives|runtime)\/src\/(promise\/)?(\w+)\.ts$/.exec(file)
    const inPromise = m?.[2] !== undefined
    const own = m === null ? [] : m[2] !== undefined ? namedExports(path.join(root, file)) : [m[3]!]
    const ownSpec = m === null ? "" : `@multiproc/${m[1]}/${m[2] ?? ""}${m[3]}`
    importer = (name) => {
      if (own.includes(name)) {
        return inPromise ? `import { ${name} } from "${ownSpec}"` : `import * as ${name} from "${ownSpec}"`
      }
      if (inPromise && promise.includes(name)) return `import { ${name} } from "@multiproc/primitives/promise"`
      if (primitives.includes(name)) return `import { ${name} } from "@multiproc/primitives"`
      if (runtime.includes(name)) return `import { ${name} } from "@multiproc/runtime"`
      if (effectModules.includes(name)) return `import { ${name} } from "effect"`
      return undefined
    }
    cache.set(file, importer)
    return importer
  }
})()

// ---- the harness --------------------------------------------------------------------------------

interface Harnessed {
  readonly text: string
  /** For each line of `text`, the 0-based line of the snippet it comes from, or -1. */
  readonly origin: ReadonlyArray<number>
}

/** Names a snippet declares anywhere (imports, variables, parameters, functions, classes, types). */
const declaredNames = (sf: ts.SourceFile): Set<string> => {
  const names = new Set<string>()
  const bind = (n: ts.BindingName) => {
    if (ts.isIdentifier(n)) names.add(n.text)
    else for (const e of n.elements) if (!ts.isOmittedExpression(e)) bind(e.name)
  }
  const visit = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) || ts.isParameter(node) || ts.isBindingElement(node)) bind(node.name)
    else if (
      (ts.isFunctionDeclaration(node) || ts.isClassDeclaration(node) || ts.isInterfaceDeclaration(node) ||
        ts.isTypeAliasDeclaration(node) || ts.isFunctionExpression(node) || ts.isClassExpression(node) ||
        ts.isTypeParameterDeclaration(node) || ts.isImportClause(node) || ts.isNamespaceImport(node) ||
        ts.isImportSpecifier(node) || ts.isImportEqualsDeclaration(node)) && node.name !== undefined
    ) names.add(node.name.text)
    ts.forEachChild(node, visit)
  }
  visit(sf)
  return names
}

/** Identifiers used as a value or type name (not a property name, nor a declaration's own name). */
const usedNames = (sf: ts.SourceFile): Set<string> => {
  const names = new Set<string>()
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) return
    if (ts.isIdentifier(node)) {
      const p = node.parent
      const isName = (ts.isPropertyAccessExpression(p) && p.name === node) ||
        (ts.isQualifiedName(p) && p.right === node) ||
        ((ts.isPropertyAssignment(p) || ts.isPropertySignature(p) || ts.isPropertyDeclaration(p) ||
          ts.isMethodDeclaration(p) || ts.isMethodSignature(p)) && p.name === node) ||
        (ts.isBindingElement(p) && p.propertyName === node)
      if (!isName) names.add(node.text)
    }
    ts.forEachChild(node, visit)
  }
  visit(sf)
  return names
}

const hasTopLevelYield = (sf: ts.SourceFile): boolean => {
  // Outside a generator `yield* x` parses as the identifier `yield` times `x`.
  let found = false
  const visit = (node: ts.Node): void => {
    if (found) return
    if (ts.isIdentifier(node) && node.text === "yield") found = true
    else if ((ts.isFunctionLike(node) && (node as ts.FunctionLikeDeclarationBase).asteriskToken)) return
    else ts.forEachChild(node, visit)
  }
  visit(sf)
  return found
}

export const harness = (example: Example): Harnessed => {
  const sf = ts.createSourceFile("snippet.ts", example.code, ts.ScriptTarget.Latest, true)
  const snippetLines = example.code.split("\n")
  const lineOf = (pos: number) => sf.getLineAndCharacterOfPosition(pos).line
  // A global (`Array`, `Map`) is never imported: a snippet meaning ours must import it by name.
  const missing = [...usedNames(sf)].filter((n) => !declaredNames(sf).has(n) && !(n in globalThis))
  const importer = importerFor(example.file)
  const added = missing.flatMap((n) => importer(n) ?? [])
  const wrap = hasTopLevelYield(sf)
  const out: Array<string> = []
  const origin: Array<number> = []
  const emit = (text: string, from: number) => {
    text.split("\n").forEach((l, i) => {
      out.push(l)
      origin.push(from < 0 ? -1 : from + i)
    })
  }
  for (const a of added) emit(a, -1)
  if (wrap && !added.some((a) => a.startsWith("import { Effect }")) && !declaredNames(sf).has("Effect")) {
    emit(`import { Effect } from "effect"`, -1)
  }
  if (!wrap) {
    emit(example.code, 0)
  } else {
    const top = (s: ts.Statement) =>
      ts.isImportDeclaration(s) || ts.isInterfaceDeclaration(s) || ts.isTypeAliasDeclaration(s) ||
      (ts.canHaveModifiers(s) && ts.getModifiers(s)?.some((m) => m.kind === ts.SyntaxKind.DeclareKeyword))
    const slice = (s: ts.Statement) => {
      const from = lineOf(s.getStart(sf))
      return { from, text: snippetLines.slice(from, lineOf(s.end) + 1).join("\n") }
    }
    for (const s of sf.statements.filter(top)) {
      const { from, text } = slice(s)
      emit(text, from)
    }
    emit("export const __example = Effect.gen(function*() {", -1)
    for (const s of sf.statements.filter((s) => !top(s))) {
      const { from, text } = slice(s)
      emit(text.replace(/^(\s*)export\s+/, "$1"), from)
    }
    emit("})", -1)
  }
  emit("export {}", -1)
  return { text: out.join("\n"), origin }
}

// ---- the check ----------------------------------------------------------------------------------

const compilerOptions = (): ts.CompilerOptions => {
  const parsed = ts.getParsedCommandLineOfConfigFile(path.join(root, "tsconfig.json"), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"))
    }
  })
  if (parsed === undefined) throw new Error("cannot read tsconfig.json")
  return parsed.options
}

/** Type-checks the examples (all of them by default) in one program; the failing ones. */
export const check = (examples: ReadonlyArray<Example> = collect()): Array<Failure> => {
  const options = compilerOptions()
  // Next to this file, one directory per markdown file (its named blocks import each other).
  const dir = path.join(root, "packages/examples/test")
  const virtual = new Map<string, { example: Example; harnessed: Harnessed }>()
  examples.forEach((example, i) => {
    const own = example.file.endsWith(".md") ? path.join(dir, `__doc_${example.file.replace(/\W/g, "_")}`) : dir
    const file = path.join(own, example.name ?? `__doc_example_${i}.ts`)
    virtual.set(file, { example, harnessed: harness(example) })
  })
  const host = ts.createCompilerHost(options, true)
  const { fileExists, readFile, getSourceFile, directoryExists } = host
  const dirs = new Set([...virtual.keys()].map((f) => path.dirname(f)))
  host.fileExists = (f) => virtual.has(f) || fileExists.call(host, f)
  host.directoryExists = (d) => dirs.has(path.resolve(d)) || (directoryExists?.call(host, d) ?? ts.sys.directoryExists(d))
  host.readFile = (f) => virtual.get(f)?.harnessed.text ?? readFile.call(host, f)
  host.getSourceFile = (f, lang, onError, create) => {
    const v = virtual.get(f)
    return v !== undefined
      ? ts.createSourceFile(f, v.harnessed.text, lang, true)
      : getSourceFile.call(host, f, lang, onError, create)
  }
  const program = ts.createProgram({ rootNames: [...virtual.keys()], options, host })
  const failures: Array<Failure> = []
  for (const [f, { example, harnessed }] of virtual) {
    const sf = program.getSourceFile(f)!
    const diags = [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)]
    if (diags.length === 0) continue
    failures.push({
      example,
      messages: diags.map((d) => {
        const hl = d.start === undefined ? -1 : sf.getLineAndCharacterOfPosition(d.start).line
        const o = hl < 0 ? -1 : harnessed.origin[hl]!
        const where = o < 0 ? `${example.file}:${example.line} (harness)` : `${example.file}:${example.line + o}`
        return `${where}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n  ")}`
      })
    })
  }
  return failures
}

if (import.meta.main) {
  const t0 = performance.now()
  const examples = collect()
  const failures = check(examples)
  for (const f of failures) {
    console.log(f.messages.join("\n"))
    if (process.argv.includes("--code")) console.log(harness(f.example).text.replace(/^/gm, "    | "))
  }
  console.log(`${examples.length} examples, ${failures.length} failing, ${Math.round(performance.now() - t0)} ms`)
}
