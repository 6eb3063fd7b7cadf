// Runs fn(0) … fn(n - 1) with at most `limit` at a time, and returns their results in order: logins and connects of
// many clients without opening them all at once.
export async function pool(n, limit, fn) {
  let next = 0;
  const results = [];
  await Promise.all(Array.from({ length: Math.min(limit, n) }, async () => {
    while (next < n) { const i = next++; results[i] = await fn(i); }
  }));
  return results;
}
