const RETRYABLE = new Set(["40001", "40P01"]);
export async function withTransaction(db, work, attempts = 5) {
    for (let attempt = 1;; attempt++) {
        try {
            return await db.transaction(work);
        }
        catch (error) {
            const code = error.code;
            if (!code || !RETRYABLE.has(code) || attempt >= attempts)
                throw error;
            await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
        }
    }
}
//# sourceMappingURL=transaction.js.map