/** Stroke width relative to the pad's side: about MNIST's pen once the digit is scaled to 20 pixels. */
const PEN_FRACTION = 0.07;

/**
 * A square canvas to write a digit on with mouse, pen or finger (pointer events): white ink
 * on black, like MNIST. `onChange` runs at most once per frame while drawing and once when a
 * stroke ends.
 */
export class DrawingPad {
  private readonly context: CanvasRenderingContext2D;
  private last: { x: number; y: number } | undefined;
  private pending = false;

  constructor(
    readonly canvas: HTMLCanvasElement,
    private readonly onChange: () => void,
  ) {
    const context = canvas.getContext("2d", { willReadFrequently: true });
    if (context === null) throw new Error("this browser gives no 2D canvas context");
    this.context = context;
    this.clear();
    canvas.addEventListener("pointerdown", (event) => {
      canvas.setPointerCapture(event.pointerId);
      this.last = this.position(event);
      this.stroke(this.last, this.last);
    });
    canvas.addEventListener("pointermove", (event) => {
      if (this.last === undefined) return;
      // Coalesced events keep fast strokes smooth where the browser batches pointer moves.
      for (const sample of event.getCoalescedEvents?.() ?? [event]) {
        const next = this.position(sample);
        this.stroke(this.last, next);
        this.last = next;
      }
    });
    const end = () => {
      this.last = undefined;
      this.onChange();
    };
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
  }

  clear(): void {
    this.context.fillStyle = "#000";
    this.context.fillRect(0, 0, this.canvas.width, this.canvas.height);
  }

  /** The pad's pixels as RGBA, 0..255. */
  pixels(): ImageData {
    return this.context.getImageData(0, 0, this.canvas.width, this.canvas.height);
  }

  private position(event: PointerEvent): { x: number; y: number } {
    const box = this.canvas.getBoundingClientRect();
    return {
      x: ((event.clientX - box.left) / box.width) * this.canvas.width,
      y: ((event.clientY - box.top) / box.height) * this.canvas.height,
    };
  }

  private stroke(from: { x: number; y: number }, to: { x: number; y: number }): void {
    const context = this.context;
    context.strokeStyle = "#fff";
    context.lineCap = "round";
    context.lineJoin = "round";
    context.lineWidth = PEN_FRACTION * this.canvas.width;
    context.beginPath();
    context.moveTo(from.x, from.y);
    context.lineTo(to.x, to.y);
    context.stroke();
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.onChange();
    });
  }
}
