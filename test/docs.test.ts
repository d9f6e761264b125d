/**
 * The README is a quickstart and the documentation holds together in a clone: README.md at most 250 lines with
 * `npm ci`, `npm run dev` and `npm test` as commands in its first 60; no tracked file points at the sibling
 * folder the project was specified in (it does not exist in a clone); every relative link in README.md and
 * docs/*.md names a file of the repository, and an anchor into a markdown file names one of its headings.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const REPO = fileURLToPath(new URL("..", import.meta.url));
const README = readFileSync(join(REPO, "README.md"), "utf8");
const DOCS = [
  "README.md",
  ...readdirSync(join(REPO, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];

/** The commands in fenced shell blocks, one per line, comments dropped. */
function shellCommands(markdown: string): string[] {
  const blocks = [...markdown.matchAll(/^```(?:sh|bash|shell)\n([\s\S]*?)^```/gm)].map((m) => m[1]!);
  return blocks.flatMap((b) => b.split("\n").map((l) => l.replace(/#.*$/, "").trim()));
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, "")
    .replace(/ /g, "-");
}

function anchors(markdown: string): Set<string> {
  const text = markdown.replace(/^```[\s\S]*?^```/gm, "");
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!)));
}

/** Inline links and images outside code: [text](target). */
function links(markdown: string): string[] {
  const text = markdown.replace(/^```[\s\S]*?^```/gm, "").replace(/`[^`\n]*`/g, "");
  return [...text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]!);
}

describe("README as a quickstart", () => {
  it("is at most 250 lines", () => {
    expect(README.trimEnd().split("\n").length).toBeLessThanOrEqual(250);
  });

  it("has npm ci, npm run dev and npm test as commands in its first 60 lines", () => {
    const commands = shellCommands(README.split("\n").slice(0, 60).join("\n") + "\n```\n");
    for (const c of ["npm ci", "npm run dev", "npm test"]) expect(commands, c).toContain(c);
  });
});

describe("documentation links", () => {
  it("no tracked file refers to the sibling folder the project was specified in", () => {
    const needle = ["..", "shared"].join("/");
    const files = execFileSync("git", ["ls-files", "-z"], { cwd: REPO, encoding: "utf8" }).split("\0").filter(Boolean);
    expect(files.length).toBeGreaterThan(50);
    const hits = files.filter((f) => {
      const path = join(REPO, f);
      if (!existsSync(path) || statSync(path).size > 5_000_000) return false;
      return readFileSync(path, "utf8").includes(needle);
    });
    expect(hits).toEqual([]);
  });

  for (const doc of DOCS) {
    it(`every relative link in ${doc} resolves inside the repository`, () => {
      const text = readFileSync(join(REPO, doc), "utf8");
      const broken: string[] = [];
      for (const target of links(text)) {
        if (/^[a-z]+:/i.test(target)) continue; // http(s), mailto
        const [path, anchor] = target.split("#") as [string, string | undefined];
        const file = path ? resolve(dirname(join(REPO, doc)), decodeURIComponent(path)) : join(REPO, doc);
        if (relative(REPO, file).startsWith("..")) broken.push(`${target} (outside the repository)`);
        else if (!existsSync(file)) broken.push(`${target} (no such file)`);
        else if (anchor && file.endsWith(".md") && !anchors(readFileSync(file, "utf8")).has(anchor))
          broken.push(`${target} (no such heading)`);
      }
      expect(broken).toEqual([]);
    });
  }
});
