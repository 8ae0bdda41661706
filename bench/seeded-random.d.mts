/** Types of seeded-random.mjs, for the tests that replay a run from its seed. */
export function seededRandom(seed: number): () => number;
