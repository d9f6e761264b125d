import { describe, it, expect } from "vitest";
import { renderFigure, formatPercent, type Panel, type FigureOptions } from "../src/eval/plots";

const OPTS: FigureOptions = { title: "Test figure", xLabel: "Generation budget", yLabel: "Accuracy" };
const BUDGETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];

/** Tiny tag-balance checker: every opening tag is closed in LIFO order. */
function checkBalanced(svg: string): { ok: boolean; error?: string } {
  const stack: string[] = [];
  const re = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<>]*")*)\s*(\/?)>/g;
  let last = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(svg)) !== null) {
    const between = svg.slice(last, m.index);
    if (/[<>]/.test(between))
      return { ok: false, error: `stray angle bracket near ${m.index}: ${between.slice(0, 40)}` };
    last = re.lastIndex;
    const [, closing, name, , selfClose] = m;
    if (selfClose) continue;
    if (closing) {
      const top = stack.pop();
      if (top !== name) return { ok: false, error: `</${name}> closes <${top}>` };
    } else {
      stack.push(name!);
    }
  }
  if (/[<>]/.test(svg.slice(last))) return { ok: false, error: "stray angle bracket at end" };
  if (stack.length) return { ok: false, error: `unclosed: ${stack.join(",")}` };
  return { ok: true };
}

function count(s: string, needle: RegExp): number {
  return (s.match(needle) ?? []).length;
}

function series(label: string, f: (x: number) => number, band = false) {
  return {
    label,
    points: BUDGETS.map((x) => {
      const y = f(x);
      return band ? { x, y, lo: y - 0.03, hi: y + 0.03 } : { x, y };
    }),
  };
}

function panels(nPanels: number, labels: string[]): Panel[] {
  return Array.from({ length: nPanels }, (_, p) => ({
    title: `Level ${p + 1}`,
    series: labels.map((l, i) => series(l, (x) => 0.1 + 0.08 * i + 0.04 * Math.log2(x) - 0.05 * p, i === 0)),
  }));
}

describe("formatPercent", () => {
  it("formats fractions as percentages without float noise", () => {
    expect(formatPercent(0)).toBe("0%");
    expect(formatPercent(0.5)).toBe("50%");
    expect(formatPercent(1)).toBe("100%");
    expect(formatPercent(0.1 + 0.2)).toBe("30%");
    expect(formatPercent(0.025)).toBe("2.5%");
    expect(formatPercent(-0)).toBe("0%");
  });
});

describe("renderFigure", () => {
  it("produces a well-formed svg document", () => {
    const svg = renderFigure(panels(3, ["A", "B"]), OPTS);
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    expect(checkBalanced(svg)).toEqual({ ok: true });
    expect(svg).not.toMatch(/NaN|Infinity|undefined/);
  });

  it("the balance checker rejects broken markup", () => {
    expect(checkBalanced("<svg><g></svg>").ok).toBe(false);
    expect(checkBalanced("<svg><text>a < b</text></svg>").ok).toBe(false);
  });

  it("draws one polyline per series per panel", () => {
    const svg = renderFigure(panels(5, ["A", "B", "C", "D"]), OPTS);
    expect(count(svg, /<polyline /g)).toBe(20);
    expect(count(svg, /class="panel"/g)).toBe(5);
  });

  it("lists each label once in the legend with a stable colour per label", () => {
    const ps: Panel[] = [
      { title: "p1", series: [series("Best-of-N", () => 0.3), series("Beam", () => 0.4)] },
      { title: "p2", series: [series("Beam", () => 0.5), series("Lookahead", () => 0.2)] },
    ];
    const svg = renderFigure(ps, OPTS);
    const legend = svg.slice(svg.indexOf('<g class="legend"'), svg.indexOf('<g class="panel"'));
    for (const l of ["Best-of-N", "Beam", "Lookahead"]) {
      expect(count(legend, new RegExp(`>${l}</text>`, "g"))).toBe(1);
    }
    // "Beam" has the same colour in both panels
    const beamColours = [...svg.matchAll(/data-label="Beam">\n<polyline [^>]*stroke="(#[0-9a-f]{6})"/g)].map(
      (m) => m[1],
    );
    expect(beamColours).toHaveLength(2);
    expect(beamColours[0]).toBe(beamColours[1]);
    const bonColour = /data-label="Best-of-N">\n<polyline [^>]*stroke="(#[0-9a-f]{6})"/.exec(svg)?.[1];
    expect(bonColour).not.toBe(beamColours[0]);
  });

  it("escapes text", () => {
    const svg = renderFigure(
      [{ title: `a<b & "c"`, series: [{ label: `PRM <best> & 'weighted'`, points: [{ x: 1, y: 0.5 }] }] }],
      { ...OPTS, title: "T & <U>", xLabel: "x > y", yLabel: "acc's" },
    );
    expect(svg).toContain("a&lt;b &amp; &quot;c&quot;");
    expect(svg).toContain("PRM &lt;best&gt; &amp; &apos;weighted&apos;");
    expect(svg).toContain("T &amp; &lt;U&gt;");
    expect(svg).not.toContain("<best>");
    expect(checkBalanced(svg)).toEqual({ ok: true });
  });

  it("is deterministic", () => {
    const a = renderFigure(panels(4, ["A", "B", "C"]), OPTS);
    const b = renderFigure(panels(4, ["A", "B", "C"]), OPTS);
    expect(a).toBe(b);
  });

  it("has log2 x ticks labelled 1..256", () => {
    const svg = renderFigure(panels(1, ["A"]), OPTS);
    const ticks = [...svg.matchAll(/<g class="ticks"[^>]*>([\s\S]*?)<\/g>/g)].map((m) => m[1]).join("");
    const labels = [...ticks.matchAll(/text-anchor="middle">([^<]*)</g)].map((m) => m[1]);
    expect(labels).toEqual(["1", "2", "4", "8", "16", "32", "64", "128", "256"]);
    // equally spaced on a log axis
    const xs = [...ticks.matchAll(/<text x="([\d.]+)"[^>]*text-anchor="middle"/g)].map((m) => Number(m[1]));
    const gaps = xs.slice(1).map((x, i) => x - xs[i]!);
    for (const g of gaps) expect(Math.abs(g - gaps[0]!)).toBeLessThan(0.02);
    // y ticks are percentages
    expect(ticks).toMatch(/>\d+%</);
  });

  it("skips NaN points and sorts by x", () => {
    const svg = renderFigure(
      [
        {
          title: "p",
          series: [
            {
              label: "A",
              points: [
                { x: 16, y: 0.6 },
                { x: 4, y: NaN },
                { x: 1, y: 0.2 },
                { x: NaN, y: 0.3 },
                { x: 64, y: 0.7 },
              ],
            },
          ],
        },
      ],
      OPTS,
    );
    expect(svg).not.toMatch(/NaN/);
    const poly = /<polyline points="([^"]*)"/.exec(svg)![1]!;
    const xs = poly.split(" ").map((p) => Number(p.split(",")[0]));
    expect(xs).toHaveLength(3);
    expect([...xs].sort((a, b) => a - b)).toEqual(xs);
    expect(count(svg, /<circle /g)).toBe(3 + 1); // 3 markers + 1 legend marker
  });

  it("draws interval bands only where lo/hi are given", () => {
    const svg = renderFigure([{ title: "p", series: [series("A", () => 0.5, true), series("B", () => 0.4)] }], OPTS);
    expect(count(svg, /<polygon class="band"/g)).toBe(1);
    expect(svg).toMatch(/fill-opacity="0\.15"/);
  });

  it("handles empty figures, empty panels, single points and dashed series", () => {
    const empty = renderFigure([], OPTS);
    expect(checkBalanced(empty)).toEqual({ ok: true });
    expect(empty.startsWith("<svg")).toBe(true);

    const svg = renderFigure(
      [
        { title: "empty", series: [] },
        { title: "one", series: [{ label: "S", points: [{ x: 8, y: 0.42 }], dashed: true }] },
        { title: "all-nan", series: [{ label: "N", points: [{ x: 2, y: NaN }] }] },
      ],
      OPTS,
    );
    expect(checkBalanced(svg)).toEqual({ ok: true });
    expect(svg).not.toMatch(/NaN|Infinity/);
    expect(count(svg, /<polyline /g)).toBe(1);
    expect(svg).toContain('stroke-dasharray="5 3"');
    expect(count(svg, /class="panel"/g)).toBe(3);
  });

  it("sizes the figure from the column grid and honours yRange", () => {
    const dims = (svg: string) => /width="(\d+)" height="([\d.]+)"/.exec(svg)!.slice(1).map(Number);
    const [w5] = dims(renderFigure(panels(5, ["A"]), OPTS));
    const [w2, h2] = dims(renderFigure(panels(5, ["A"]), { ...OPTS, columns: 2 }));
    const [, h5] = dims(renderFigure(panels(5, ["A"]), OPTS));
    expect(w5).toBeGreaterThan(w2!);
    expect(h2).toBeGreaterThan(h5!);
    const svg = renderFigure(panels(1, ["A"]), { ...OPTS, yRange: [0, 1] });
    expect(svg).toContain(">0%<");
    expect(svg).toContain(">100%<");
  });
});
