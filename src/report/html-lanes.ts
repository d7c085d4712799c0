import { markup, joinHtml, type SafeHtml } from './html-escape.js';

/**
 * Lane colours: each fault lane gets one of ten CSS classes (`lane0` … `lane9`, defined in
 * html-styles.ts), in the order the run lists its lanes, then lanes seen only in the history.
 * Colours live in the stylesheet, so no attribute ever carries a value derived from data.
 */

export const LANE_COLOURS = 10;

export interface LanePalette {
  /** "lane3" for a lane name. */
  classOf(lane: string): string;
  readonly names: readonly string[];
}

export function lanePalette(...lists: readonly (readonly string[])[]): LanePalette {
  const order = new Map<string, number>();
  for (const list of lists)
    for (const name of list) if (!order.has(name)) order.set(name, order.size);
  return {
    classOf(lane) {
      let position = order.get(lane);
      if (position === undefined) {
        position = order.size;
        order.set(lane, position);
      }
      return `lane${position % LANE_COLOURS}`;
    },
    get names() {
      return [...order.keys()];
    },
  };
}

/** A coloured square and the lane's name. */
export function laneSwatch(palette: LanePalette, lane: string): SafeHtml {
  return markup`<span class="swatch ${palette.classOf(lane)}"></span>${lane}`;
}

export function laneLegend(palette: LanePalette, lanes: readonly string[]): SafeHtml {
  return joinHtml(
    lanes.map((lane) => markup`<span class="legend-item">${laneSwatch(palette, lane)}</span>`),
    markup``,
  );
}
