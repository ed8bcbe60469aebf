/**
 * A fixed-capacity FIFO of numbers for chart series: push() is O(1) and,
 * once full, overwrites the oldest value. toArray() copies oldest-first,
 * which is the shape uPlot wants.
 */
export class RingBuffer {
  private readonly buf: Float64Array;
  private start = 0;
  private len = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.buf = new Float64Array(capacity);
  }

  get length(): number {
    return this.len;
  }

  push(v: number): void {
    if (this.len < this.capacity) {
      this.buf[(this.start + this.len) % this.capacity] = v;
      this.len++;
    } else {
      this.buf[this.start] = v;
      this.start = (this.start + 1) % this.capacity;
    }
  }

  /** i-th value from the oldest (0) to the newest (length-1); undefined when out of range. */
  at(i: number): number | undefined {
    if (i < 0) i += this.len;
    if (i < 0 || i >= this.len) return undefined;
    return this.buf[(this.start + i) % this.capacity];
  }

  last(): number | undefined {
    return this.at(this.len - 1);
  }

  clear(): void {
    this.start = 0;
    this.len = 0;
  }

  toArray(): number[] {
    const out = new Array<number>(this.len);
    for (let i = 0; i < this.len; i++) out[i] = this.buf[(this.start + i) % this.capacity] as number;
    return out;
  }
}
