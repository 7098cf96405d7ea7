#!/usr/bin/env python3
"""make_cifar.py: CIFAR-style data for the loader's feed check (`mae-cuda pretrain --data OUT
--model mae_tiny_32`): --count 32x32 RGB images, each a seeded random window of a sample
photograph Debian's python3-skimage ships resized to 32x32, written as a CIFAR-10 binary batch
(OUT/data_batch_1.bin: per record 1 label byte, then 3072 bytes R, G, B planes) with
OUT/batches.meta.txt. Usage: make_cifar.py OUT [--count 10000]."""
import argparse
import os
import random
import sys


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("out")
    p.add_argument("--count", type=int, default=10000)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    import numpy as np
    from PIL import Image
    from skimage import data

    names = ["astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "immunohistochemistry", "motorcycle_left"]
    srcs = []
    for n in names:
        try:
            img = getattr(data, n)()
        except Exception:
            continue
        if img.ndim == 3:
            srcs.append(img[:, :, :3])
    if not srcs:
        print("make_cifar.py: no photographs found (apt-get install python3-skimage)", file=sys.stderr)
        return 2
    rng = random.Random(a.seed)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "data_batch_1.bin"), "wb") as f:
        for i in range(a.count):
            img = srcs[i % len(srcs)]
            h, w = img.shape[:2]
            s = rng.randint(32, min(h, w))
            y, x = rng.randint(0, h - s), rng.randint(0, w - s)
            small = np.asarray(Image.fromarray(img[y:y + s, x:x + s]).resize((32, 32), Image.BICUBIC))
            f.write(bytes([i % 10]))
            f.write(small.transpose(2, 0, 1).tobytes())
    with open(os.path.join(a.out, "batches.meta.txt"), "w") as f:
        f.write("\n".join(f"class{c}" for c in range(10)) + "\n")
    print(f"make_cifar.py: {a.count} images in {a.out}/data_batch_1.bin")
    return 0


if __name__ == "__main__":
    sys.exit(main())
