// labelled.ts: what the idx, CIFAR and tar sources share: a spec holding one label per sample,
// positional reads through a cache of open files (file-handles.ts), and the index checks.
import { FileHandles } from './file-handles.js';
import { checkIndex, type ReadOptions, type Sample } from './types.js';

interface LabelledSpec {
  path: string;
  labels: ArrayLike<number>;
  classes: readonly string[];
}

export abstract class LabelledSource<S extends LabelledSpec> {
  readonly path: string;
  readonly length: number;
  readonly classes: readonly string[];
  protected readonly handles: FileHandles;

  constructor(
    readonly spec: S,
    maxOpenFiles?: number,
    options: ReadOptions = {},
  ) {
    this.path = spec.path;
    this.length = spec.labels.length;
    this.classes = spec.classes;
    this.handles = new FileHandles(maxOpenFiles, options);
  }

  label(i: number): number {
    checkIndex(this.path, i, this.length);
    return this.spec.labels[i]!;
  }

  /** Sample i (the index already checked). */
  protected abstract readChecked(i: number): Promise<Sample>;

  read(i: number): Promise<Sample> {
    checkIndex(this.path, i, this.length);
    return this.readChecked(i);
  }

  close(): Promise<void> {
    return this.handles.close();
  }
}
