#!/usr/bin/env python3
"""data_bench.py: the input pipeline of the official main_pretrain.py alone, for `mae-cuda
bench-data --torchvision PYTHON`: torchvision's ImageFolder with RandomResizedCrop(input_size,
scale=(0.2, 1.0), BICUBIC), RandomHorizontalFlip, ToTensor and Normalize (ImageNet mean/std), in a
DataLoader of --workers processes (0: the main process), batches of --batch. Times --batches
batches after one warm-up batch and prints one JSON line: images_per_s, workers, batch, images."""
import argparse
import json
import sys
import time


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data", required=True, help="an ImageFolder tree")
    p.add_argument("--input-size", type=int, default=224)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--batches", type=int, default=10)
    a = p.parse_args()
    if a.input_size < 1 or a.batch < 1 or a.workers < 0 or a.batches < 1:
        print("data_bench.py: --input-size, --batch and --batches must be >= 1, --workers >= 0", file=sys.stderr)
        return 2
    import torch
    from torchvision import datasets, transforms

    torch.set_num_threads(1)
    t = transforms.Compose([
        transforms.RandomResizedCrop(a.input_size, scale=(0.2, 1.0), interpolation=transforms.InterpolationMode.BICUBIC),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
    ])
    ds = datasets.ImageFolder(a.data, transform=t)
    total = a.batch * (a.batches + 1)
    sampler = torch.utils.data.RandomSampler(ds, replacement=True, num_samples=total)
    dl = torch.utils.data.DataLoader(ds, batch_size=a.batch, sampler=sampler, num_workers=a.workers, drop_last=True)
    it = iter(dl)
    next(it)  # warm-up: workers started, first batch decoded
    t0 = time.perf_counter()
    images = 0
    for _ in range(a.batches):
        x, _ = next(it)
        images += x.shape[0]
    seconds = time.perf_counter() - t0
    print(json.dumps({"images_per_s": images / seconds, "workers": a.workers, "batch": a.batch, "images": images,
                      "torchvision": __import__("torchvision").__version__}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
