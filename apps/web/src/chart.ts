/** One point per training step. */
interface Point {
  step: number;
  loss: number;
  accuracy: number;
}

const LOSS_COLOUR = "#d9534f";
const ACCURACY_COLOUR = "#2e7dd7";
const MARGIN = { left: 44, right: 44, top: 20, bottom: 26 };
/** Least time between redraws: the whole chart is redrawn, and the main thread must stay free for the pad. */
const REDRAW_MILLIS = 200;

/**
 * Minibatch loss (left axis, 0..largest loss seen) and accuracy (right axis, 0..1) against
 * the step, on a canvas. Each series is drawn faint as measured and bold as a running mean,
 * because a single minibatch of 128 is noisy.
 */
export class TrainingChart {
  private points: Point[] = [];
  private totalSteps = 1;
  private pending = false;
  private lastDrawn = Number.NEGATIVE_INFINITY;

  constructor(private readonly canvas: HTMLCanvasElement) {
    this.draw();
  }

  reset(totalSteps: number): void {
    this.points = [];
    this.totalSteps = Math.max(1, totalSteps);
    this.schedule();
  }

  add(step: number, loss: number, accuracy: number): void {
    this.points.push({ step, loss, accuracy });
    this.schedule();
  }

  // At most one redraw per REDRAW_MILLIS, in a frame, however fast the steps come.
  private schedule(): void {
    if (this.pending) return;
    this.pending = true;
    const wait = Math.max(0, this.lastDrawn + REDRAW_MILLIS - performance.now());
    setTimeout(() => {
      requestAnimationFrame(() => {
        this.pending = false;
        this.lastDrawn = performance.now();
        this.draw();
      });
    }, wait);
  }

  private draw(): void {
    const context = this.canvas.getContext("2d");
    if (context === null) return;
    const ratio = window.devicePixelRatio || 1;
    const width = this.canvas.clientWidth || this.canvas.width;
    const height = this.canvas.clientHeight || this.canvas.height;
    // Setting the size, even to the same value, reallocates the canvas: only when it changed.
    if (this.canvas.width !== Math.round(width * ratio)) this.canvas.width = Math.round(width * ratio);
    if (this.canvas.height !== Math.round(height * ratio)) this.canvas.height = Math.round(height * ratio);
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, width, height);

    const plotWidth = width - MARGIN.left - MARGIN.right;
    const plotHeight = height - MARGIN.top - MARGIN.bottom;
    const maxLoss = Math.max(0.5, ...this.points.map((p) => p.loss));
    const x = (step: number) => MARGIN.left + (step / this.totalSteps) * plotWidth;
    const yLoss = (loss: number) => MARGIN.top + plotHeight * (1 - loss / maxLoss);
    const yAccuracy = (accuracy: number) => MARGIN.top + plotHeight * (1 - accuracy);

    context.font = "11px system-ui, sans-serif";
    context.strokeStyle = "#ccc";
    context.lineWidth = 1;
    context.strokeRect(MARGIN.left, MARGIN.top, plotWidth, plotHeight);
    for (let tick = 0; tick <= 4; tick++) {
      const fraction = tick / 4;
      const y = MARGIN.top + plotHeight * (1 - fraction);
      context.fillStyle = LOSS_COLOUR;
      context.textAlign = "right";
      context.fillText((maxLoss * fraction).toFixed(2), MARGIN.left - 4, y + 4);
      context.fillStyle = ACCURACY_COLOUR;
      context.textAlign = "left";
      context.fillText(fraction.toFixed(2), width - MARGIN.right + 4, y + 4);
    }
    context.fillStyle = "#555";
    context.textAlign = "center";
    context.fillText(`step (of ${this.totalSteps})`, MARGIN.left + plotWidth / 2, height - 6);
    context.textAlign = "left";
    context.fillStyle = LOSS_COLOUR;
    context.fillText("minibatch loss", MARGIN.left, MARGIN.top - 8);
    context.fillStyle = ACCURACY_COLOUR;
    context.textAlign = "right";
    context.fillText("minibatch accuracy", width - MARGIN.right, MARGIN.top - 8);

    this.series(context, x, yLoss, (p) => p.loss, LOSS_COLOUR);
    this.series(context, x, yAccuracy, (p) => p.accuracy, ACCURACY_COLOUR);
  }

  private series(
    context: CanvasRenderingContext2D,
    x: (step: number) => number,
    y: (value: number) => number,
    value: (p: Point) => number,
    colour: string,
  ): void {
    if (this.points.length === 0) return;
    context.strokeStyle = colour;
    context.globalAlpha = 0.25;
    context.lineWidth = 1;
    this.line(context, this.points.map((p) => [x(p.step), y(value(p))]));
    // Exponential moving average, so early steps are not flattened by a long window.
    let mean = value(this.points[0] as Point);
    const smooth = this.points.map((p): [number, number] => {
      mean = 0.9 * mean + 0.1 * value(p);
      return [x(p.step), y(mean)];
    });
    context.globalAlpha = 1;
    context.lineWidth = 2;
    this.line(context, smooth);
  }

  private line(context: CanvasRenderingContext2D, points: [number, number][]): void {
    context.beginPath();
    points.forEach(([px, py], i) => (i === 0 ? context.moveTo(px, py) : context.lineTo(px, py)));
    context.stroke();
  }
}
