/** Reported outcomes of solves in D1: every report is kept, and the latest one for a solve counts. */
import { drizzle } from "drizzle-orm/d1";
import { desc, eq } from "drizzle-orm";
import { solveFeedback } from "./schema";

export interface FeedbackRow {
  solveId: string;
  tenantId: string;
  correct: boolean;
  answer: string | null;
  createdAt: number;
}

export async function recordFeedback(db: D1Database, row: FeedbackRow): Promise<void> {
  await drizzle(db)
    .insert(solveFeedback)
    .values({ ...row, correct: row.correct ? 1 : 0 });
}

/** The latest report for a solve, or null when there is none. */
export async function latestFeedback(db: D1Database, solveId: string): Promise<FeedbackRow | null> {
  const [r] = await drizzle(db)
    .select()
    .from(solveFeedback)
    .where(eq(solveFeedback.solveId, solveId))
    .orderBy(desc(solveFeedback.createdAt), desc(solveFeedback.id))
    .limit(1);
  return r
    ? { solveId: r.solveId, tenantId: r.tenantId, correct: r.correct === 1, answer: r.answer, createdAt: r.createdAt }
    : null;
}
