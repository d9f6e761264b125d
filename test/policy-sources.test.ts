/** The per-source cap of the global fit (src/policyVersions/sources.ts). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { capPerSource } from "../src/policyVersions/sources";

const rowsOf = (counts: number[]) =>
  counts.flatMap((n, s) => Array.from({ length: n }, (_, i) => ({ source: `t${s}`, i })));

describe("capPerSource", () => {
  it("admits each source up to the level at which none exceeds the share", () => {
    const capped = capPerSource(rowsOf([600, 250]), (r) => r.source, 0.5);
    expect(capped.perSource).toBe(250);
    expect(capped.sources).toEqual([
      { source: "t0", offered: 600, admitted: 250 },
      { source: "t1", offered: 250, admitted: 250 },
    ]);
    // Each source keeps its newest rows (the order they came in).
    expect(capped.admitted.filter((r) => r.source === "t0").map((r) => r.i)).toEqual([...Array(250).keys()]);
    expect(capPerSource(rowsOf([100, 100, 100]), (r) => r.source, 0.5).admitted).toHaveLength(300);
    expect(capPerSource(rowsOf([1000, 10, 10]), (r) => r.source, 0.5).perSource).toBe(20);
  });

  it("a lone source is admitted nothing under a cap below 1, everything with the cap off", () => {
    expect(capPerSource(rowsOf([500]), (r) => r.source, 0.5).admitted).toEqual([]);
    expect(capPerSource(rowsOf([500]), (r) => r.source, 1).admitted).toHaveLength(500);
    expect(capPerSource([], (r: { source: string }) => r.source, 0.5).admitted).toEqual([]);
  });

  it("no source ever exceeds its share, and the level is the largest that holds", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 6 }),
        fc.double({ min: 0.05, max: 1, noNaN: true }),
        (counts, share) => {
          const capped = capPerSource(rowsOf(counts), (r) => r.source, share);
          const total = capped.admitted.length;
          for (const s of capped.sources) expect(s.admitted).toBeLessThanOrEqual(share * total + 1e-6);
          // One more per source would break the cap (or nothing more is offered).
          const k = capped.perSource + 1;
          const more = counts.reduce((sum, n) => sum + Math.min(n, k), 0);
          if (counts.some((n) => n >= k)) expect(k).toBeGreaterThan(share * more + 1e-9);
        },
      ),
    );
  });
});
