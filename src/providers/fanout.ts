/**
 * Fan-out: one logical generate becomes the requests a server can take. A request with n samples stays one
 * request where the server supports `n` and seeds its samples apart; elsewhere it becomes n requests of one
 * sample, each with its own seed, so no two samples repeat. Units of distinct prompts share a request where the
 * server takes prompt arrays (at most `maxBatch` prompts).
 */
import type { GenerateRequest } from "../engine/types";
import { samplesPerRequest, type ServerCapabilities } from "./servers";

export interface Unit {
  /** Index of the logical request this unit serves. */
  index: number;
  /** The request as sent: `n` is this unit's samples, `seed` its own. */
  req: GenerateRequest;
  /** Fan-out position (0 when not fanned out): units at the same position may share a prompt array. */
  position: number;
}

/** A distinct seed per fanned-out sample: a multiplicative hash keeps neighbouring seeds' samples apart too. */
export function sampleSeed(seed: number, j: number): number {
  return j === 0 ? seed : (seed + Math.imul(j, 0x9e3779b1)) >>> 0;
}

export function unitsOf(requests: readonly GenerateRequest[], caps: ServerCapabilities): Unit[] {
  const units: Unit[] = [];
  requests.forEach((req, index) => {
    const per = samplesPerRequest(caps, req.n);
    if (per >= req.n) units.push({ index, req, position: 0 });
    else
      for (let j = 0; j < req.n; j++)
        units.push({ index, req: { ...req, n: 1, seed: sampleSeed(req.seed, j) }, position: j });
  });
  return units;
}

/** HTTP requests one logical request costs on this server (the prompt is billed once per request). */
export function requestsPerLogical(caps: ServerCapabilities, n: number): number {
  return Math.ceil(n / samplesPerRequest(caps, n));
}
