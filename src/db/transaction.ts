// Transactions that retry on serialization failures and deadlocks. Pool rows are locked best type first
// (seat-allocator.ts), but one cycle is inherent and rare: a promotion holds the freed pool row and waits
// for the waiter's member row, while a change of that waiter holds the member row and waits for the pool row.
import type { Knex } from "knex";

const RETRYABLE = new Set(["40001", "40P01"]);

export async function withTransaction<T>(
  db: Knex,
  work: (trx: Knex.Transaction) => Promise<T>,
  attempts = 5,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction(work);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (!code || !RETRYABLE.has(code) || attempt >= attempts) throw error;
      await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
    }
  }
}
