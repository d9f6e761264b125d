/** What every route shares: the JSON body reader (the Hono environment is src/auth/env.ts). */
import type { Context } from "hono";
import type { AppEnv } from "../auth/env";
import { ApiError } from "../errors/apiError";

/** A JSON body: the media type is compared case-insensitively and parameters are ignored. */
export async function jsonBody(c: Context<AppEnv>): Promise<unknown> {
  const mediaType = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (mediaType !== "application/json")
    throw new ApiError(415, "unsupported_media_type", "Content-Type must be application/json");
  try {
    return await c.req.json();
  } catch {
    throw new ApiError(400, "invalid_json", "the request body is not valid JSON");
  }
}
