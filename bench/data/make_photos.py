#!/usr/bin/env python3
"""make_photos.py: an ImageFolder of real photographs for `mae-cuda bench-data` (JPEG decoding cost
depends on content, so not noise): windows of ImageNet's typical size (about 400x350, the size
varying by +-25%) cut at seeded random places from the sample photographs Debian's python3-skimage
ships, re-encoded as JPEG quality 90 (--quality), --count images in --classes class folders.
Deterministic for a given --seed. Usage: make_photos.py OUT [--count 1000]."""
import argparse
import os
import random
import sys


def photos():
    from skimage import data
    names = ["astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "immunohistochemistry", "motorcycle_left",
             "cat", "retina", "colorwheel"]
    out = []
    for n in names:
        try:
            img = getattr(data, n)()
        except Exception:  # missing optional data files
            continue
        if img.ndim == 3 and img.shape[2] >= 3:
            out.append((n, img[:, :, :3]))
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("out")
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--quality", type=int, default=90)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    from PIL import Image
    srcs = photos()
    if not srcs:
        print("make_photos.py: no photographs found (apt-get install python3-skimage)", file=sys.stderr)
        return 2
    rng = random.Random(a.seed)
    for c in range(a.classes):
        os.makedirs(os.path.join(a.out, f"class{c:02d}"), exist_ok=True)
    for i in range(a.count):
        name, img = srcs[i % len(srcs)]
        h, w = img.shape[:2]
        cw = min(w, int(400 * rng.uniform(0.75, 1.25)))
        ch = min(h, int(350 * rng.uniform(0.75, 1.25)))
        x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
        crop = Image.fromarray(img[y:y + ch, x:x + cw])
        crop.save(os.path.join(a.out, f"class{i % a.classes:02d}", f"{name}_{i:05d}.jpg"), quality=a.quality)
    print(f"make_photos.py: {a.count} JPEGs from {len(srcs)} photographs in {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
