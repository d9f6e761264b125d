/** The one meter (src/engine/meter.ts): its units, how amounts read, and the one parser of a cost unit. */
import { describe, expect, it } from "vitest";
import { emptyLedger, exceededCap } from "../src/engine/budget";
import { COST_UNITS, formatAmount, parseCostUnit, SPEND_UNITS, UNITS } from "../src/engine/meter";
import { PolicySchema } from "../src/policy/document";

describe("the meter", () => {
  it("parses the cost units it knows and names what it was given otherwise", () => {
    for (const unit of COST_UNITS) expect(parseCostUnit(unit)).toEqual({ ok: true, unit });
    expect(parseCostUnit("dollars")).toEqual({ ok: false, error: 'must be tokens, money or flops, got "dollars"' });
    expect(parseCostUnit("")).toMatchObject({ ok: false });
  });

  it("reads amounts in every unit", () => {
    expect(formatAmount("tokens", 1199.2)).toBe("1200 tokens");
    expect(formatAmount("generations", 3)).toBe("3 generations");
    expect(formatAmount("verifierTokens", 10)).toBe("10 verifier tokens");
    expect(formatAmount("money", 0.012345)).toBe("$0.0123");
    expect(formatAmount("flops", 4.2e12)).toBe("4.200e+12 FLOPs");
    expect(Object.keys(UNITS).sort()).toEqual([...SPEND_UNITS, "verifierTokens"].sort());
  });

  it("checks caps in every spend unit, in the registry's order", () => {
    const extra = { generations: 2, tokens: 2, money: 2, flops: 2 };
    expect(exceededCap(emptyLedger(), extra, { generations: 1, tokens: 1, money: 1, flops: 1 })).toBe("generations");
    expect(exceededCap(emptyLedger(), extra, { money: 1, flops: 1 })).toBe("money");
    expect(exceededCap(emptyLedger(), extra, { flops: 1 })).toBe("flops");
    expect(exceededCap(emptyLedger(), extra, { tokens: 2, flops: 2 })).toBeNull();
  });

  it("is what a policy document's cost unit is validated against", () => {
    const unit = PolicySchema.shape.costUnit;
    for (const u of COST_UNITS) expect(unit.safeParse(u).success).toBe(true);
    expect(unit.safeParse("dollars").success).toBe(false);
  });
});
