/**
 * The simulated models of sim-world.md: a base generator (and a larger one), a revision model and a PRM.
 * They read prompts as text, parse the question and the partial solution out of them, and write text back.
 * Only the world configuration, the request and its seed decide what they write.
 */
import { ATTEMPT_CLOSE, PROBLEM_HEADER, SOLUTION_HEADER } from "../engine/prompts";
import { hashString, mixSeeds, normalFromHash, Rng, unitFromHash } from "../engine/random";
import { joinSteps, splitSteps, STEP_SEPARATOR } from "../engine/steps";
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

/** A forced outcome for the next operation step (the revision model fixing or breaking a step). */
type Forced = "right" | "error";

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
  const q = prompt.indexOf(PROBLEM_HEADER);
  const s = prompt.lastIndexOf(SOLUTION_HEADER);
  if (q < 0 || s < 0) return null;
  const qStart = q + PROBLEM_HEADER.length;
  const qEnd = prompt.indexOf(STEP_SEPARATOR, qStart);
  const question = prompt.slice(qStart, qEnd < 0 ? s : qEnd).trim();
  const attempts: string[][] = [];
  const re = /<attempt (\d+)>\n([\s\S]*?)\n<\/attempt (\d+)>/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(prompt)) && m.index < s) {
    if (m[1] === m[3] && prompt.startsWith(ATTEMPT_CLOSE(Number(m[1])), m.index + m[0].length - ATTEMPT_CLOSE(Number(m[1])).length)) {
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

  /** True value of a correct prefix with `opsDone` operations done: the base model's chance to finish correctly. */
  private valueAfter(problem: ParsedProblem, opsDone: number): number {
    let ok = 1;
    const t = this.world.errors.referenceTemperature;
    for (let j = opsDone; j < problem.ops.length; j++) ok *= 1 - this.errorProbability(problem, j, this.world.base.skill, t);
    return ok;
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
    if (kind === 0) wrong = right + (right >= 0 ? 10 : -10); // lost or extra carry
    else if (kind === 1) wrong = op.kind === "add" ? apply("subtract", a, op.operand) : op.kind === "subtract" ? apply("add", a, op.operand) : right - 1;
    else if (kind === 2) wrong = swapDigits(right, h);
    else wrong = right + ((h >>> 8) % 2 === 0 ? 1 : -1) * Math.pow(10, Math.max(0, String(Math.abs(right)).length - 2));
    return wrong === right ? right + 1 : wrong;
  }

  private randomSlip(right: number, rng: Rng): number {
    const deltas = [1, -1, 2, -2, 10, -10, 100, -100, 9, -9];
    const wrong = rng.chance(0.3) ? swapDigits(right, Math.floor(rng.next() * 2 ** 32)) : right + rng.pick(deltas);
    return wrong === right ? right + 3 : wrong;
  }

  /** Write the next step from where a partial solution stands. */
  private nextStep(problem: ParsedProblem, p: Progress, skill: number, temperature: number, rng: Rng, force?: Forced): string {
    const L = problem.ops.length;
    const phrase = temperature > 0 ? rng.weighted(phraseWeights(PHRASE_COUNT, temperature)) : 0;
    if (p.opsDone >= L) return writeFinalStep(p.value, phrase);
    if (temperature > 0 && force === undefined) {
      const deg = this.world.degenerate;
      const scale = this.degenerateScale(problem, temperature);
      if (p.lastWasCheck && rng.chance(deg.checkRepeat)) return writeCheckStep(p.value, phrase);
      if (p.opsDone >= 1 && p.opsDone <= 2 && rng.chance(deg.shortcutRate * scale)) return writeFinalStep(p.value, phrase);
      if (rng.chance(deg.checkRate * scale)) return writeCheckStep(p.value, phrase);
    }
    const j = p.opsDone;
    const op = problem.ops[j]!;
    const a = p.value;
    let right = op.kind === "divide" ? Math.round(a / op.operand) : apply(op.kind, a, op.operand);
    if (!Number.isSafeInteger(right)) right = Math.trunc(right % 1e12);
    let result = right;
    const z = this.errorLogit(problem, j, skill);
    const q = this.world.errors.commonMistakeShare;
    if (force === "right") {
      result = right;
    } else if (force === "error") {
      result = this.commonMistake(problem, j, a, right);
    } else if (temperature <= 0) {
      // Most likely outcome: the correct value unless the common mistake is more likely.
      if (q > 0 && z + Math.log(q) > 0) result = this.commonMistake(problem, j, a, right);
    } else if (rng.chance(sigmoid(z / temperature))) {
      result = rng.chance(q) ? this.commonMistake(problem, j, a, right) : this.randomSlip(right, rng);
    }
    return writeOpStep(op.kind, a, op.operand, result, phrase);
  }

  /** Continue a partial solution: one step, or until the final answer (bounded); `force` fixes the outcome of the next step. */
  private continueFrom(problem: ParsedProblem, prefix: readonly string[], skill: number, temperature: number, oneStep: boolean, rng: Rng, force?: Forced): string[] {
    const p = progressOf(problem, prefix);
    const out: string[] = [];
    if (p.finished) return out;
    const limit = oneStep ? 1 : problem.ops.length * 4 + 12;
    while (out.length < limit) {
      const step = this.nextStep(problem, p, skill, temperature, rng, out.length === 0 ? force : undefined);
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
      else if (model === "reviser" && parsed.attempts.length > 0) steps = this.revise(problem, parsed.attempts, parsed.prefix, params, rng);
      else steps = this.continueFrom(problem, parsed.prefix, this.skillOf(model), params.temperature, params.oneStep, rng);
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
   * The revision model: with the last attempt correct it usually keeps it but sometimes breaks it; with it
   * wrong it may find the first wrong step and redo the solution from there, else it starts afresh. Each
   * earlier attempt in context (up to four) makes its own steps more reliable.
   */
  private revise(problem: ParsedProblem, attempts: string[][], prefix: string[], params: SampleParams, rng: Rng): string[] {
    const r = this.world.reviser;
    const shown = attempts.slice(-4);
    const skill = r.skill + r.contextGain * shown.length;
    const d = this.difficulty(problem);
    const last = shown[shown.length - 1] ?? [];
    const { firstWrong, correct, opSteps } = this.audit(problem, last);
    const T = params.temperature;
    if (prefix.length > 0) return this.continueFrom(problem, prefix, skill, T, params.oneStep, rng);
    if (correct) {
      if (opSteps.length > 0 && rng.chance(r.breakRateEasy * (1 - d) + r.breakRateHard * d)) {
        const at = rng.pick(opSteps);
        const kept = last.slice(0, at);
        return [...kept, ...this.continueFrom(problem, kept, skill, T, false, rng, "error")];
      }
      return [...last];
    }
    if (firstWrong >= 0 && rng.chance(r.fixRateEasy * (1 - d) + r.fixRateHard * d)) {
      // Found it: keep what came before, write that step right, and go on from there.
      const kept = last.slice(0, firstWrong);
      return [...kept, ...this.continueFrom(problem, kept, skill, T, false, rng, "right")];
    }
    if (rng.chance(r.keepWrongRateEasy * (1 - d) + r.keepWrongRateHard * d)) return [...last];
    return this.continueFrom(problem, [], skill, T, false, rng);
  }

  /** Ground truth about a solution: its first wrong step, whether its answer is right, where its operation steps are. */
  private audit(problem: ParsedProblem, steps: readonly string[]): { firstWrong: number; correct: boolean; opSteps: number[] } {
    let opsDone = 0;
    let firstWrong = -1;
    let correct = false;
    const opSteps: number[] = [];
    steps.forEach((step, i) => {
      const r = readStep(step);
      if (r.kind === "op" && opsDone < problem.ops.length) {
        opSteps.push(i);
        if (firstWrong < 0 && r.value !== problem.values[opsDone]) firstWrong = i;
        opsDone += 1;
      } else if (r.kind === "final") {
        correct = r.value === problem.answer;
        if (firstWrong < 0 && (!correct || opsDone < problem.ops.length)) firstWrong = i;
      } else if (r.kind === "check" && firstWrong < 0 && r.value !== (opsDone === 0 ? problem.start : problem.values[opsDone - 1])) {
        firstWrong = i;
      }
    });
    if (firstWrong < 0 && !correct) firstWrong = steps.length;
    return { firstWrong, correct, opSteps };
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
    // What the PRM believes: the prefix is on track (it checks each step against the value written before it).
    let believed = true;
    let current = problem.start;
    let blindBonus = 0;
    steps.forEach((step, j) => {
      h = hashString(step, h);
      const r = readStep(step);
      let value: number;
      let bias = 0;
      if (r.kind === "final") {
        const reached = believed && opsDone === problem.ops.length && r.value === current;
        value = r.value === problem.answer || reached ? 1 : 0;
        if (j <= 2) bias += v.shortcutBias;
      } else {
        if (r.kind === "op" && opsDone < problem.ops.length) {
          const op = problem.ops[opsDone]!;
          const right = op.kind === "divide" ? Math.round(current / op.operand) : apply(op.kind, current, op.operand);
          if (r.value !== right) {
            if (believed && this.blindSpot(problem, opsDone, current) && r.value === this.commonMistake(problem, opsDone, current, right)) {
              blindBonus = v.blindSpotBias;
            } else if (!this.missed(problem, opsDone, current, r.value)) believed = false;
          }
          current = r.value;
          opsDone += 1;
        } else if (r.kind === "check") {
          if (r.value !== current) believed = false;
          bias += v.checkBias;
        }
        value = believed ? this.valueAfter(problem, opsDone) : 0;
      }
      // Once it has taken a blind-spot mistake for right, the PRM is more confident in everything that follows.
      if (believed) bias += blindBonus;
      const clipped = Math.min(Math.max(value, v.epsilon), 1 - v.epsilon);
      const said = r.kind === "final" ? `F${r.value}` : `${r.kind}${opsDone}:${current}`;
      const systematic = normalFromHash(hashString(said, problemKey));
      const noise = sigma * (textShare * normalFromHash(h) + valueShare * systematic);
      const z = signal * logit(clipped) + v.offset + bias + noise;
      scores.push(sigmoid(z));
    });
    return scores;
  }

  /** Whether the PRM overlooks a wrong result (more often on harder problems); the same slip is always judged the same way. */
  private missed(problem: ParsedProblem, j: number, a: number, written: number): boolean {
    const v = this.world.verifier;
    const d = this.difficulty(problem);
    const rate = v.missRateEasy * (1 - d) + v.missRateHard * d;
    return unitFromHash(hashString(`${problem.question}#${j}#${a}#${written}`, 0x3155)) < rate;
  }

  /** Whether the PRM shares the common mistake of step j from value a (deterministic from the text). */
  private blindSpot(problem: ParsedProblem, j: number, a: number): boolean {
    return unitFromHash(hashString(`${problem.question}#${j}#${a}`, 0xb11d)) < this.world.verifier.blindSpotRate;
  }
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

