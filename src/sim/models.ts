/**
 * The simulated models of sim-world.md: a base generator (and a larger one), a revision model and a PRM.
 * They read prompts as text, parse the question and the partial solution out of them, and write text back.
 * Only the world configuration, the request and its seed decide what they write.
 */
import { ATTEMPT_CLOSE, PROBLEM_HEADER, SOLUTION_HEADER } from "../engine/prompts";
import { hashString, mixSeeds, normalFromHash, Rng, unitFromHash } from "../engine/random";
import { joinSteps, splitSteps, STEP_SEPARATOR } from "../engine/solutionSteps";
import type { Completion, Usage } from "../engine/types";
import { apply, parseProblem, type ParsedProblem } from "./problems";
import { PHRASE_COUNT, phraseWeights, readStep, writeCheckStep, writeFinalStep, writeOpStep } from "./text";
import type { World } from "./world";

export type SimModelName = "base" | "large" | "reviser";

export interface SampleParams {
  n: number;
  temperature: number;
  /** Stop after one step (the request's stop sequence is "\n\n"). */
  oneStep: boolean;
  maxTokens: number;
  seed: number;
}

export interface SampleResult {
  completions: Completion[];
  usage: Usage;
}

/** Deterministic token count of a text, as a provider would report it (about four characters a token). */
export function countTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** Where a partial solution stands: operations done, the value it has reached, whether it has ended. */
interface Progress {
  opsDone: number;
  value: number;
  lastWasCheck: boolean;
  finished: boolean;
}

function progressOf(problem: ParsedProblem, steps: readonly string[]): Progress {
  const p: Progress = { opsDone: 0, value: problem.start, lastWasCheck: false, finished: false };
  for (const step of steps) {
    const r = readStep(step);
    p.lastWasCheck = r.kind === "check";
    if (r.kind === "final") p.finished = true;
    else if (r.kind === "op" && p.opsDone < problem.ops.length) {
      p.opsDone += 1;
      p.value = r.value;
    }
  }
  return p;
}

interface ParsedPrompt {
  question: string;
  attempts: string[][];
  prefix: string[];
}

/** Read question, earlier attempts and the partial solution out of a completion prompt. */
export function parsePrompt(prompt: string): ParsedPrompt | null {
  const s = prompt.lastIndexOf(SOLUTION_HEADER);
  // The last problem header before the solution: a conversation's earlier turns come before it.
  const after = prompt.lastIndexOf(STEP_SEPARATOR + PROBLEM_HEADER, s);
  const q = after >= 0 ? after + STEP_SEPARATOR.length : prompt.startsWith(PROBLEM_HEADER) ? 0 : -1;
  if (q < 0 || s < 0) return null;
  const qStart = q + PROBLEM_HEADER.length;
  const qEnd = prompt.indexOf(STEP_SEPARATOR, qStart);
  const question = prompt.slice(qStart, qEnd < 0 ? s : qEnd).trim();
  const attempts: string[][] = [];
  const re = /<attempt (\d+)>\n([\s\S]*?)\n<\/attempt (\d+)>/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(prompt)) && m.index < s) {
    if (
      m[1] === m[3] &&
      prompt.startsWith(ATTEMPT_CLOSE(Number(m[1])), m.index + m[0].length - ATTEMPT_CLOSE(Number(m[1])).length)
    ) {
      attempts.push(splitSteps(m[2] ?? ""));
    }
  }
  return { question, attempts, prefix: splitSteps(prompt.slice(s + SOLUTION_HEADER.length)) };
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

function logit(p: number): number {
  return Math.log(p / (1 - p));
}

export class SimModels {
  private readonly difficultyCache = new Map<string, number>();

  constructor(readonly world: World) {}

  private skillOf(model: SimModelName): number {
    return this.world[model].skill;
  }

  /** Error logit of operation j for a model of the given skill (at temperature 1). */
  errorLogit(problem: ParsedProblem, j: number, skill: number): number {
    const e = this.world.errors;
    return e.baseLogit + e.hardnessWeight * (problem.hardness[j] ?? 0) + e.factorWeight * problem.factor - skill;
  }

  /** Probability that operation j goes wrong at temperature T (softmax over correct / common / random). */
  errorProbability(problem: ParsedProblem, j: number, skill: number, temperature: number): number {
    const z = this.errorLogit(problem, j, skill);
    if (temperature <= 0) return z > 0 ? 1 : 0;
    return sigmoid(z / temperature);
  }

  /** Difficulty in [0, 1]: the chance that a base-model sample at temperature 1 makes some error. */
  difficulty(problem: ParsedProblem): number {
    const hit = this.difficultyCache.get(problem.question);
    if (hit !== undefined) return hit;
    let ok = 1;
    for (let j = 0; j < problem.ops.length; j++) ok *= 1 - this.errorProbability(problem, j, this.world.base.skill, 1);
    const d = 1 - ok;
    if (this.difficultyCache.size > 4096) this.difficultyCache.clear();
    this.difficultyCache.set(problem.question, d);
    return d;
  }

  /** Expected number of wrong steps in a base-model sample at the reference temperature. */
  expectedErrors(problem: ParsedProblem): number {
    let e = 0;
    const t = this.world.errors.referenceTemperature;
    for (let j = 0; j < problem.ops.length; j++) e += this.errorProbability(problem, j, this.world.base.skill, t);
    return e;
  }

  private readonly valueCache = new WeakMap<ParsedProblem, number[]>();

  /** True value of a correct prefix with `opsDone` operations done: the base model's chance to finish correctly. */
  private valueAfter(problem: ParsedProblem, opsDone: number): number {
    let values = this.valueCache.get(problem);
    if (!values) {
      // Suffix products, computed once per problem: the PRM asks for them at every step it scores.
      const t = this.world.errors.referenceTemperature;
      values = new Array<number>(problem.ops.length + 1).fill(1);
      for (let j = problem.ops.length - 1; j >= 0; j--)
        values[j] = (values[j + 1] as number) * (1 - this.errorProbability(problem, j, this.world.base.skill, t));
      this.valueCache.set(problem, values);
    }
    return values[Math.min(opsDone, problem.ops.length)] as number;
  }

  /**
   * What the PRM learned to predict for a prefix it believes is on track: the Monte Carlo label it was
   * trained on, "at least one of k rollouts from here reaches the right answer" (Math-Shepherd's hard
   * estimate), whose expectation is 1 - (1 - value)^k.
   */
  private labelValue(problem: ParsedProblem, opsDone: number): number {
    return 1 - Math.pow(1 - this.valueAfter(problem, opsDone), this.world.verifier.labelRollouts);
  }

  /** Scale of degenerate-output rates for a problem at a temperature. */
  private degenerateScale(problem: ParsedProblem, temperature: number): number {
    const d = this.difficulty(problem);
    return Math.min(temperature, 1.5) * (1 + (this.world.degenerate.hardBoost - 1) * d);
  }

  /** The step's common mistake: deterministic from the problem, the step and the value it starts from. */
  private commonMistake(problem: ParsedProblem, j: number, a: number, right: number): number {
    const h = hashString(`${problem.question}#${j}#${a}`, 0xc0ffee);
    const op = problem.ops[j]!;
    const kind = h % 4;
    let wrong: number;
    if (kind === 0)
      wrong = right + (right >= 0 ? 10 : -10); // lost or extra carry
    else if (kind === 1)
      wrong =
        op.kind === "add"
          ? apply("subtract", a, op.operand)
          : op.kind === "subtract"
            ? apply("add", a, op.operand)
            : right - 1;
    else if (kind === 2) wrong = swapDigits(right, h);
    else wrong = right + ((h >>> 8) % 2 === 0 ? 1 : -1) * Math.pow(10, Math.max(0, String(Math.abs(right)).length - 2));
    return wrong === right ? right + 1 : wrong;
  }

  private randomSlip(right: number, rng: Rng): number {
    const deltas = [1, -1, 2, -2, 10, -10, 100, -100, 9, -9];
    const wrong = rng.chance(0.3) ? swapDigits(right, Math.floor(rng.next() * 2 ** 32)) : right + rng.pick(deltas);
    return wrong === right ? right + 3 : wrong;
  }

  /** The right result of operation j from value a (kept a safe integer, as the text writes it). */
  private rightResult(problem: ParsedProblem, j: number, a: number): number {
    const op = problem.ops[j]!;
    const right = op.kind === "divide" ? Math.round(a / op.operand) : apply(op.kind, a, op.operand);
    return Number.isSafeInteger(right) ? right : Math.trunc(right % 1e12);
  }

  /**
   * The result a model writes for operation j from value a: right, its common mistake, or a random slip.
   * `extraLogit` raises the error logit (a reviser primed to find a mistake).
   */
  private deriveOp(
    problem: ParsedProblem,
    j: number,
    a: number,
    skill: number,
    temperature: number,
    rng: Rng,
    extraLogit = 0,
  ): number {
    const right = this.rightResult(problem, j, a);
    const z = this.errorLogit(problem, j, skill) + extraLogit;
    const q = this.world.errors.commonMistakeShare;
    if (temperature <= 0) {
      // Most likely outcome: the correct value unless the common mistake is more likely.
      return q > 0 && z + Math.log(q) > 0 ? this.commonMistake(problem, j, a, right) : right;
    }
    if (!rng.chance(sigmoid(z / temperature))) return right;
    return rng.chance(q) ? this.commonMistake(problem, j, a, right) : this.randomSlip(right, rng);
  }

  /** Write the next step from where a partial solution stands. */
  private nextStep(problem: ParsedProblem, p: Progress, skill: number, temperature: number, rng: Rng): string {
    const L = problem.ops.length;
    const phrase = temperature > 0 ? rng.weighted(phraseWeights(PHRASE_COUNT, temperature)) : 0;
    if (p.opsDone >= L) return writeFinalStep(p.value, phrase);
    if (temperature > 0) {
      const deg = this.world.degenerate;
      const scale = this.degenerateScale(problem, temperature);
      if (p.lastWasCheck && rng.chance(deg.checkRepeat)) return writeCheckStep(p.value, phrase);
      if (p.opsDone >= 1 && p.opsDone <= 2 && rng.chance(deg.shortcutRate * scale))
        return writeFinalStep(p.value, phrase);
      if (rng.chance(deg.checkRate * scale)) return writeCheckStep(p.value, phrase);
    }
    const j = p.opsDone;
    const op = problem.ops[j]!;
    const result = this.deriveOp(problem, j, p.value, skill, temperature, rng);
    return writeOpStep(op.kind, p.value, op.operand, result, phrase);
  }

  /** Continue a partial solution: one step, or until the final answer (bounded). */
  private continueFrom(
    problem: ParsedProblem,
    prefix: readonly string[],
    skill: number,
    temperature: number,
    oneStep: boolean,
    rng: Rng,
  ): string[] {
    const p = progressOf(problem, prefix);
    const out: string[] = [];
    if (p.finished) return out;
    const limit = oneStep ? 1 : problem.ops.length * 4 + 12;
    while (out.length < limit) {
      const step = this.nextStep(problem, p, skill, temperature, rng);
      out.push(step);
      const r = readStep(step);
      p.lastWasCheck = r.kind === "check";
      if (r.kind === "final") break;
      if (r.kind === "op") {
        p.opsDone += 1;
        p.value = r.value;
      }
    }
    return out;
  }

  /** Sample completions for a completion prompt, like an OpenAI-compatible /v1/completions call. */
  complete(model: SimModelName, prompt: string, params: SampleParams): SampleResult {
    const parsed = parsePrompt(prompt);
    const problem = parsed ? parseProblem(parsed.question) : null;
    const completions: Completion[] = [];
    let completionTokens = 0;
    for (let i = 0; i < params.n; i++) {
      const rng = new Rng(mixSeeds(params.seed, i, hashString(prompt)));
      let steps: string[];
      if (!parsed || !problem) steps = ["I cannot parse this problem."];
      else if (model === "reviser" && parsed.attempts.length > 0)
        steps = this.revise(problem, parsed.attempts, parsed.prefix, params, rng);
      else
        steps = this.continueFrom(problem, parsed.prefix, this.skillOf(model), params.temperature, params.oneStep, rng);
      let text = joinSteps(steps);
      let finishReason: Completion["finishReason"] = "stop";
      if (countTokens(text) > params.maxTokens) {
        text = text.slice(0, params.maxTokens * 4);
        finishReason = "length";
      }
      completionTokens += countTokens(text);
      completions.push({ text, finishReason });
    }
    return { completions, usage: { promptTokens: countTokens(prompt), completionTokens } };
  }

  /**
   * The revision model re-reads its last attempt step by step. Each operation it either takes on trust
   * (`trustRate`) or re-derives from the value the attempt had reached, with its own chance of error: its
   * skill plus what the earlier attempts in context taught it, the step's hardness and the problem's
   * factor, made worse by `doubtLogit` (trained to revise, it expects to find a mistake). Where its result
   * disagrees with the attempt's, it trusts its own and writes the rest of the solution from there. So it
   * fixes a wrong step as often as it would have got that step right, and breaks a right one as often as it
   * gets it wrong; an attempt that ends early is continued. Nothing here reads a per-bin rate.
   */
  private revise(
    problem: ParsedProblem,
    attempts: string[][],
    prefix: string[],
    params: SampleParams,
    rng: Rng,
  ): string[] {
    const r = this.world.reviser;
    const shown = attempts.slice(-4);
    const skill = r.skill + r.contextGain * shown.length;
    const T = params.temperature;
    if (prefix.length > 0) return this.continueFrom(problem, prefix, skill, T, params.oneStep, rng);
    const last = shown[shown.length - 1] ?? [];
    const others = shown.slice(0, -1).map((a) => opValues(problem, a));
    const L = problem.ops.length;
    let opsDone = 0;
    let value = problem.start;
    for (let i = 0; i < last.length; i++) {
      const step = readStep(last[i] as string);
      if (step.kind === "final") {
        // An answer boxed before the last operation: it goes on from where the attempt stopped.
        if (opsDone < L) return this.rewriteFrom(problem, last, i, skill, T, rng);
        return [...last];
      }
      if (step.kind !== "op" || opsDone >= L) continue;
      // Each earlier attempt in context that wrote the same result here doubles its odds of taking it on trust; each that differs halves them.
      const j = opsDone;
      const agree = others.filter((o) => o[j] === step.value).length;
      const disagree = others.filter((o) => o[j] !== undefined && o[j] !== step.value).length;
      const trust = sigmoid(logit(Math.min(Math.max(r.trustRate, 1e-6), 1 - 1e-6)) + Math.LN2 * (agree - disagree));
      if (!rng.chance(trust)) {
        const own = this.deriveOp(problem, opsDone, value, skill, T, rng, r.doubtLogit);
        if (own !== step.value) return this.rewriteFrom(problem, last, i, skill, T, rng, own);
      }
      opsDone += 1;
      value = step.value;
    }
    // The attempt never boxed an answer (cut short): it finishes it.
    return this.rewriteFrom(problem, last, last.length, skill, T, rng);
  }

  /** Keep the attempt's first `at` steps, write operation `at` with `result` if given, and continue to the end. */
  private rewriteFrom(
    problem: ParsedProblem,
    last: readonly string[],
    at: number,
    skill: number,
    temperature: number,
    rng: Rng,
    result?: number,
  ): string[] {
    const kept = last.slice(0, at);
    if (result === undefined) return [...kept, ...this.continueFrom(problem, kept, skill, temperature, false, rng)];
    const p = progressOf(problem, kept);
    const op = problem.ops[p.opsDone]!;
    const phrase = temperature > 0 ? rng.weighted(phraseWeights(PHRASE_COUNT, temperature)) : 0;
    const written = [...kept, writeOpStep(op.kind, p.value, op.operand, result, phrase)];
    return [...written, ...this.continueFrom(problem, written, skill, temperature, false, rng)];
  }

  /**
   * The PRM: one score per step, tracking the true value of each prefix (its chance to end correct),
   * blurred by deterministic noise that grows with difficulty, plus its biases for confident checking
   * steps and early boxed answers.
   */
  score(question: string, steps: readonly string[]): number[] {
    const problem = parseProblem(question);
    const v = this.world.verifier;
    let h = hashString(question, 0x9a11);
    const scores: number[] = [];
    if (!problem) {
      for (const step of steps) {
        h = hashString(step, h);
        scores.push(sigmoid(v.offset + v.noiseBase * normalFromHash(h)));
      }
      return scores;
    }
    const lambda = this.expectedErrors(problem);
    const sigma = v.noiseBase + v.noisePerError * Math.pow(lambda, v.noiseExponent);
    const signal = v.signal / (1 + Math.pow(lambda / v.competenceLambda, v.competenceExponent));
    const problemKey = hashString(question, 0x5157);
    const valueShare = Math.sqrt(v.systematicShare);
    const textShare = Math.sqrt(1 - v.systematicShare);
    let opsDone = 0;
    // How sure the PRM is that the prefix is on track (it checks each step against the value written before it).
    let belief = 1;
    let current = problem.start;
    steps.forEach((step, j) => {
      h = hashString(step, h);
      const r = readStep(step);
      let value: number;
      let bias = 0;
      if (r.kind === "final") {
        // It judges the answer by the solution it read, not by knowing the answer.
        value = opsDone === problem.ops.length && r.value === current ? belief : 0;
        if (j <= 2) bias += v.shortcutBias;
      } else {
        if (r.kind === "op" && opsDone < problem.ops.length) {
          // It checks a step by working it out itself. Where its own result differs it doubts the step, as much
          // as it trusts its own arithmetic there: little on a step it often gets wrong, a lot on an easy one.
          if (
            r.value !== this.verifierResult(problem, opsDone, current) &&
            !this.takenOnTrust(problem, opsDone, current, r.value)
          ) {
            belief *= sigmoid(this.errorLogit(problem, opsDone, v.skill));
          }
          current = r.value;
          opsDone += 1;
        } else if (r.kind === "check") {
          if (r.value !== current) belief = 0;
          bias += v.checkBias;
        }
        value = belief * this.labelValue(problem, opsDone);
      }
      const clipped = Math.min(Math.max(value, v.epsilon), 1 - v.epsilon);
      const said = r.kind === "final" ? `F${r.value}` : `${r.kind}${opsDone}:${current}`;
      const systematic = normalFromHash(hashString(said, problemKey));
      const noise = sigma * (textShare * normalFromHash(h) + valueShare * systematic);
      const z = signal * logit(clipped) + v.offset + bias + noise;
      scores.push(sigmoid(z));
    });
    return scores;
  }

  /** Whether the PRM lets a written result pass without checking it (a lapse: the same text, the same lapse). */
  private takenOnTrust(problem: ParsedProblem, j: number, a: number, written: number): boolean {
    return unitFromHash(hashString(`${problem.question}#${j}#${a}#${written}`, 0x3155)) < this.world.verifier.trustRate;
  }

  /**
   * The result the PRM works out for operation j from value a. It errs as a model of its skill would on
   * that step (the step's hardness, the problem's factor), always the same way for the same text, and
   * most of its errors are the step's common mistake: so it overlooks the generator's most common mistake
   * exactly where it shares it, doubts a right step where it errs, and is fooled most on hard steps.
   */
  private verifierResult(problem: ParsedProblem, j: number, a: number): number {
    const right = this.rightResult(problem, j, a);
    const key = hashString(`${problem.question}#${j}#${a}`, 0x9e71);
    if (unitFromHash(key) >= sigmoid(this.errorLogit(problem, j, this.world.verifier.skill))) return right;
    if (unitFromHash(hashString("common", key)) < this.world.errors.commonMistakeShare)
      return this.commonMistake(problem, j, a, right);
    return right + (key % 2 === 0 ? 1 : -1);
  }
}

/** The result written for each operation of an attempt, in order. */
function opValues(problem: ParsedProblem, steps: readonly string[]): number[] {
  const out: number[] = [];
  for (const s of steps) {
    const r = readStep(s);
    if (r.kind === "op" && out.length < problem.ops.length) out.push(r.value);
  }
  return out;
}

function swapDigits(x: number, h: number): number {
  const s = String(Math.abs(x));
  if (s.length < 2) return x + 1;
  const i = h % (s.length - 1);
  const chars = s.split("");
  [chars[i], chars[i + 1]] = [chars[i + 1]!, chars[i]!];
  const swapped = Number(chars.join(""));
  return x < 0 ? -swapped : swapped;
}
