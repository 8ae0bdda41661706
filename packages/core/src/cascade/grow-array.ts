/** An Int32Array that grows by doubling: per-position facts of one transaction in 4 bytes each. */
export class GrowableInt32 {
  private data: Int32Array;

  constructor(initial = 1024) {
    this.data = new Int32Array(initial);
  }

  get(index: number): number {
    return index < this.data.length ? this.data[index]! : 0;
  }

  set(index: number, value: number): void {
    if (index >= this.data.length) {
      let size = this.data.length;
      while (size <= index) size *= 2;
      const next = new Int32Array(size);
      next.set(this.data);
      this.data = next;
    }
    this.data[index] = value;
  }

  /** Drops the contents, keeping a small buffer (a huge transaction must not pin its memory). */
  reset(): void {
    this.data = new Int32Array(1024);
  }

  get byteLength(): number {
    return this.data.byteLength;
  }
}
