// photos.ts: real photographs for the PIL comparisons, from Debian's python3-skimage sample data
// (apt-get install python3-skimage); tests skip, saying why, when none is installed.
import { existsSync } from 'node:fs';

const DIR = '/usr/lib/python3/dist-packages/skimage/data';
const NAMES = ['chelsea.png', 'coffee.png', 'astronaut.png', 'hubble_deep_field.jpg'];

/** Paths of the sample photographs that exist here. */
export function photos(): string[] {
  return NAMES.map((n) => `${DIR}/${n}`).filter((p) => existsSync(p));
}

/** Skips the running test (printing the reason) when no photograph is installed. */
export function requirePhotos(ctx: Mocha.Context): string[] {
  const found = photos();
  if (found.length === 0) {
    console.log(`      skipped: no sample photograph in ${DIR} (apt-get install python3-skimage)`);
    ctx.skip();
  }
  return found;
}
