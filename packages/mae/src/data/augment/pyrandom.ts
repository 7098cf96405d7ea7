// pyrandom.ts: the draws of Python's `random` module that timm's RandAugment and RandomErasing make,
// on a source of float64 uniforms in [0, 1) (a per-sample stream of random.ts) in place of the
// Mersenne Twister, so each draw is what CPython 3.11 computes from the same random() values:
//   random()         the next uniform
//   uniform(a, b)    a + (b - a) * random()
//   gauss(mu, sigma) Box-Muller with the second value kept for the next call (random.gauss):
//                    x2pi = random() * 2pi, g2rad = sqrt(-2 log(1 - random())), z = cos(x2pi) * g2rad
//                    and the next call's z = sin(x2pi) * g2rad; mu + z * sigma
//   randint(a, b)    a + floor(random() * (b - a + 1)): Python draws integers from getrandbits, which
//                    no uniform reproduces; this is the same distribution
// A PyRandom is made per sample, so the kept gauss value never crosses samples (in Python it lives
// in the worker's global state, which no counter-based scheme can reproduce).

export class PyRandom {
  private gaussNext: number | undefined;

  constructor(readonly random: () => number) {}

  uniform(a: number, b: number): number {
    return a + (b - a) * this.random();
  }

  gauss(mu: number, sigma: number): number {
    let z = this.gaussNext;
    this.gaussNext = undefined;
    if (z === undefined) {
      const x2pi = this.random() * (2 * Math.PI);
      const g2rad = Math.sqrt(-2 * Math.log(1 - this.random()));
      z = Math.cos(x2pi) * g2rad;
      this.gaussNext = Math.sin(x2pi) * g2rad;
    }
    return mu + z * sigma;
  }

  /** An integer in [a, b], both included. */
  randint(a: number, b: number): number {
    return a + Math.min(b - a, Math.floor(this.random() * (b - a + 1)));
  }
}
