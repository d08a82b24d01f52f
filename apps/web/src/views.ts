/** Renders probabilities, the model's-eye view of the drawing, and the confusion matrix. */

/** Ten labelled bars, one per class, whose widths are the probabilities. */
export class ProbabilityBars {
  private readonly bars: { row: HTMLElement; fill: HTMLElement; value: HTMLElement }[] = [];

  constructor(container: HTMLElement, classes: number) {
    container.replaceChildren();
    for (let digit = 0; digit < classes; digit++) {
      const row = document.createElement("div");
      row.className = "bar";
      row.dataset.digit = String(digit);
      const label = document.createElement("span");
      label.className = "bar-label";
      label.textContent = String(digit);
      const track = document.createElement("span");
      track.className = "bar-track";
      const fill = document.createElement("span");
      fill.className = "bar-fill";
      track.append(fill);
      const value = document.createElement("span");
      value.className = "bar-value";
      row.append(label, track, value);
      container.append(row);
      this.bars.push({ row, fill, value });
    }
  }

  show(probabilities: ArrayLike<number> | undefined, best: number | undefined): void {
    this.bars.forEach(({ row, fill, value }, digit) => {
      const p = probabilities?.[digit];
      fill.style.width = p === undefined ? "0%" : `${(100 * p).toFixed(1)}%`;
      value.textContent = p === undefined ? "" : p.toFixed(3);
      row.classList.toggle("best", digit === best);
    });
  }
}

/** Paints [size*size] intensities in 0..1 as a grey image on a canvas of any size. */
export function paintDigit(canvas: HTMLCanvasElement, pixels: Float32Array, size: number): void {
  const context = canvas.getContext("2d");
  if (context === null) return;
  const image = context.createImageData(size, size);
  pixels.forEach((v, i) => {
    const level = Math.round(255 * v);
    image.data.set([level, level, level, 255], 4 * i);
  });
  const scratch = document.createElement("canvas");
  scratch.width = size;
  scratch.height = size;
  scratch.getContext("2d")?.putImageData(image, 0, 0);
  context.imageSmoothingEnabled = false;
  context.drawImage(scratch, 0, 0, canvas.width, canvas.height);
}

/** A table: rows are true labels, columns predictions, cells shaded by their share of the row. */
export function renderConfusion(table: HTMLTableElement, confusion: number[][]): void {
  const classes = confusion.length;
  const header = document.createElement("tr");
  header.append(cell("th", "label \\ predicted"));
  for (let digit = 0; digit < classes; digit++) header.append(cell("th", String(digit)));
  const rows = confusion.map((counts, label) => {
    const row = document.createElement("tr");
    row.append(cell("th", String(label)));
    const total = counts.reduce((sum, n) => sum + n, 0) || 1;
    counts.forEach((count, predicted) => {
      const td = cell("td", String(count));
      const share = count / total;
      td.style.background = predicted === label ? `rgba(46,125,215,${share})` : `rgba(217,83,79,${Math.min(1, 3 * share)})`;
      if (share > 0.6) td.style.color = "#fff";
      row.append(td);
    });
    return row;
  });
  table.replaceChildren(header, ...rows);
}

function cell(tag: "td" | "th", text: string): HTMLElement {
  const element = document.createElement(tag);
  element.textContent = text;
  return element;
}
