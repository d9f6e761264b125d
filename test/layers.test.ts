/**
 * The layers of docs/architecture.md, checked over the import graph of src/, functions/ and scripts/: which
 * layer may import which, and no import cycles between files (type-only imports count: they tie the files'
 * meaning together just the same). Imports are read with a regular expression over the source with its
 * comments removed (TypeScript 7 has no compiler API in JavaScript to parse with); every relative specifier
 * of `import`, `export … from`, `import type`, `import("…")` and side-effect imports is seen.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = normalize(join(dirname(fileURLToPath(import.meta.url)), ".."));

/**
 * What each layer may import besides itself (docs/architecture.md says why). A layer is a folder of src/,
 * or functions/ or scripts/; data folders (policies/, worlds/) are layers of their own that import nothing.
 */
export const MAY_IMPORT: Record<string, readonly string[]> = {
  "src/engine": [],
  "src/policy": ["src/engine", "policies"],
  "src/providers": ["src/engine"],
  "src/sim": ["src/engine", "src/providers", "worlds"],
  // The one list of provider kinds (the simulated world among them) and PROVIDERS parsed into adapters.
  "src/wiring": ["src/engine", "src/providers", "src/sim", "src/policy", "worlds"],
  "src/solve": ["src/engine", "src/policy"],
  "src/errors": [],
  "src/db": ["src/engine", "src/policy", "src/solve"],
  "src/policyVersions": ["src/engine", "src/policy", "src/db"],
  "src/quota": ["src/engine", "src/errors"],
  "src/auth": ["src/engine", "src/errors", "src/db", "src/quota"],
  "src/webhooks": ["src/engine", "src/errors", "src/db", "src/solve"],
  "src/durable": [
    "src/engine",
    "src/policy",
    "src/providers",
    "src/wiring",
    "src/solve",
    "src/errors",
    "src/db",
    "src/quota",
    "src/webhooks",
  ],
  "src/api": [
    "src/engine",
    "src/policy",
    "src/providers",
    "src/wiring",
    "src/solve",
    "src/errors",
    "src/db",
    "src/policyVersions",
    "src/quota",
    "src/auth",
    "src/webhooks",
    "src/durable",
    "src/openai",
  ],
  "src/openai": ["src/engine", "src/policy", "src/solve", "src/errors", "src/auth", "src/api"],
  "src/eval": ["src/engine", "src/policy", "src/providers", "src/sim", "src/solve", "src/api", "worlds", "policies"],
  functions: [
    "src/engine",
    "src/policy",
    "src/providers",
    "src/wiring",
    "src/solve",
    "src/errors",
    "src/db",
    "src/policyVersions",
    "src/quota",
    "src/auth",
    "src/webhooks",
    "src/durable",
    "src/api",
    "src/openai",
  ],
  scripts: [
    "src/engine",
    "src/policy",
    "src/providers",
    "src/wiring",
    "src/sim",
    "src/solve",
    "src/eval",
    "src/auth",
    "src/db",
    "src/api",
    "functions",
    "worlds",
    "policies",
  ],
  policies: [],
  worlds: [],
};

/**
 * Imports that break the rules today and are being removed on another branch (issue 17: production wiring of
 * providers must not load the simulator). The integrator empties this list once that branch is merged; an
 * entry that no longer exists fails the check, so the list cannot go stale.
 */
export const KNOWN_WRONG_WAY: readonly string[] = [];

/**
 * Files kept under an old name for the folders another branch rewrites (issue 17 owns src/providers and
 * src/sim): who may still import them. Emptied with KNOWN_WRONG_WAY; the files go with it.
 */
export const OLD_NAMES: Record<string, readonly string[]> = {};

const SCANNED = ["src", "functions", "scripts"];

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|tsx|mts|cts)$/.test(name) && !name.endsWith(".d.ts")) out.push(path);
  }
  return out;
}

/** The source without comments (string contents kept, so a specifier is never mistaken for one). */
export function stripComments(text: string): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    const next = text[i + 1];
    if (c === "/" && next === "*") {
      const end = text.indexOf("*/", i + 2);
      i = end < 0 ? text.length : end + 2;
      out += " ";
    } else if (c === "/" && next === "/") {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (c === '"' || c === "'" || c === "`") {
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

const SPECIFIER = [
  // import x from "…", import type { X } from "…", export { x } from "…", export * from "…"
  /\b(?:import|export)\s+(?:type\s+)?[^;"'`]*?\bfrom\s*["']([^"']+)["']/g,
  // import "…" (side effects)
  /\bimport\s*["']([^"']+)["']/g,
  // import("…"), in code or in a type position
  /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
];

export function importsOf(text: string): string[] {
  const code = stripComments(text);
  const out = new Set<string>();
  for (const re of SPECIFIER) for (const m of code.matchAll(re)) out.add(m[1]!);
  return [...out];
}

function resolveFile(from: string, specifier: string): string | null {
  if (!specifier.startsWith(".")) return null;
  const base = normalize(join(dirname(from), specifier));
  for (const candidate of [base, `${base}.ts`, `${base}.tsx`, join(base, "index.ts")]) {
    try {
      if (statSync(candidate).isFile()) return relative(ROOT, candidate);
    } catch {
      // not this one
    }
  }
  return relative(ROOT, base);
}

export function layerOf(file: string): string {
  const parts = file.split("/");
  if (parts[0] === "src" && parts.length > 2) return `src/${parts[1]}`;
  return parts[0]!;
}

export function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const dir of SCANNED)
    for (const path of sourceFiles(join(ROOT, dir))) {
      const targets = importsOf(readFileSync(path, "utf8"))
        .map((s) => resolveFile(path, s))
        .filter((t): t is string => t !== null);
      graph.set(relative(ROOT, path), [...new Set(targets)]);
    }
  return graph;
}

/** Imports that cross layers against MAY_IMPORT, as "from -> to". */
export function wrongWay(graph: Map<string, string[]>): string[] {
  const out: string[] = [];
  for (const [from, targets] of graph) {
    const layer = layerOf(from);
    const allowed = MAY_IMPORT[layer];
    for (const to of targets) {
      const target = layerOf(to);
      if (target === layer) continue;
      if (!allowed || !allowed.includes(target)) out.push(`${from} -> ${to}`);
    }
  }
  return out.sort();
}

/** Every cycle's files (strongly connected components of more than one file, or a file importing itself). */
export function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    indices.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indices.get(w)!));
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!indices.has(v)) visit(v);
  return out;
}

describe("the layers of docs/architecture.md", () => {
  const graph = importGraph();

  it("reads every kind of import, type-only and dynamic included, and not those in comments", () => {
    const text = [
      `import { a } from "./a";`,
      `import type { B } from "../b";`,
      `import type {\n  C,\n  D,\n} from "./cd";`,
      `export { e } from "./e";`,
      `export * from "./f";`,
      `import "./g";`,
      `type H = import("./h").H;`,
      `const i = await import("./i");`,
      `// import { j } from "./j";`,
      `/* import { k } from "./k"; */`,
      `const url = "http://example.test"; import { l } from "./l";`,
    ].join("\n");
    expect(importsOf(text).sort()).toEqual(["../b", "./a", "./cd", "./e", "./f", "./g", "./h", "./i", "./l"]);
  });

  it("sees the source tree (a check over nothing would pass)", () => {
    expect(graph.size).toBeGreaterThan(120);
    expect(graph.get("src/durable/SolveSession.ts")?.length).toBeGreaterThan(5);
  });

  it("knows every layer", () => {
    const unknown = [...new Set([...graph.keys()].map(layerOf))].filter((l) => !(l in MAY_IMPORT));
    expect(unknown).toEqual([]);
  });

  it("has no import against the layers beyond the known list being removed", () => {
    const found = wrongWay(graph);
    expect(found.filter((e) => !KNOWN_WRONG_WAY.includes(e))).toEqual([]);
    // The known list holds only imports that still exist: empty it as they go.
    expect(KNOWN_WRONG_WAY.filter((e) => !found.includes(e))).toEqual([]);
  });

  it("imports files under an old name only from the folders being rewritten, and each of those still does", () => {
    for (const [old, importers] of Object.entries(OLD_NAMES)) {
      const found = [...graph].filter(([, targets]) => targets.includes(old)).map(([from]) => from);
      expect(found.sort(), old).toEqual([...importers].sort());
    }
  });

  it("imports no package into the engine but zod", () => {
    const packages = [...graph.keys()]
      .filter((f) => layerOf(f) === "src/engine")
      .flatMap((f) => importsOf(readFileSync(join(ROOT, f), "utf8")).filter((s) => !s.startsWith(".")));
    expect([...new Set(packages)]).toEqual(["zod"]);
  });

  it("has no import cycle between files, type-only imports included", () => {
    expect(cycles(graph)).toEqual([]);
  });
});
