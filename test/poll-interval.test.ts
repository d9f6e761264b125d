/** OpenAI streams ask their solve less often while nothing happens, and soon again once something does. */
import { expect, it } from "vitest";
import { PollInterval } from "../src/openai/sse";

it("grows from 100 ms to at most 1 s while polls find nothing, and drops back on news", () => {
  const p = new PollInterval();
  const quiet = Array.from({ length: 10 }, () => p.next(false));
  expect(quiet[0]).toBe(150);
  expect(quiet.every((ms, i) => i === 0 || ms >= quiet[i - 1]!)).toBe(true);
  expect(quiet.at(-1)).toBe(1_000);
  expect(p.next(true)).toBe(100);
  // Over a minute of a quiet solve: about one poll a second, not ten.
  let elapsed = 0;
  let polls = 0;
  const q = new PollInterval();
  while (elapsed < 60_000) {
    elapsed += q.next(false);
    polls++;
  }
  expect(polls).toBeLessThan(70);
});
