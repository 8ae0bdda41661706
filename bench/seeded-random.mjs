/**
 * mulberry32: pseudo-random numbers in [0, 1) from a 32-bit seed. The benches load the same data on
 * every run with it, and the chaos and soak runs print their seed so a failing run can be replayed.
 */
export function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
