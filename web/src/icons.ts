// Category icons, drawn here (no icon font, nothing fetched): the category's
// `icon` name from the API's categories picks one, unknown names get a pin.

import { s } from "./dom";

const PATHS: Record<string, string[]> = {
  road: ["M5 22 9 2", "M19 22 15 2", "M12 4v3", "M12 10v3", "M12 16v4"],
  trash: ["M4 7h16", "M9 7V4h6v3", "M6 7l1.2 14h9.6L18 7", "M10 11v6", "M14 11v6"],
  broom: ["M15 2l-3.5 9", "M7 11h9l2 10H5z", "M9 15v5", "M12.5 15v5"],
  lightbulb: [
    "M9 18h6",
    "M10 21h4",
    "M12 3a6 6 0 0 0-4 10.5c.7.7 1 1.5 1 2.5h6c0-1 .3-1.8 1-2.5A6 6 0 0 0 12 3z",
  ],
  tree: ["M12 22v-6", "M12 2 6 10h3l-4 6h14l-4-6h3z"],
  sign: ["M12 22V10", "M5 3h12l3 3.5L17 10H5z"],
  pin: ["M12 2a7 7 0 0 0-7 7c0 5 7 13 7 13s7-8 7-13a7 7 0 0 0-7-7z", "M12 7v4"],
  locate: ["M12 2v4", "M12 18v4", "M2 12h4", "M18 12h4", "M12 8a4 4 0 1 0 0 8 4 4 0 0 0 0-8z"],
  thumbUp: ["M7 10v11H3V10z", "M7 10l4-8c1.7 0 3 1.3 3 3v3h5a2 2 0 0 1 2 2.3l-1.4 8A2 2 0 0 1 17.6 21H7"],
  thumbDown: ["M7 14V3H3v11z", "M7 14l4 8c1.7 0 3-1.3 3-3v-3h5a2 2 0 0 0 2-2.3l-1.4-8A2 2 0 0 0 17.6 3H7"],
  flag: ["M5 22V3", "M5 3h12l-2 4 2 4H5"],
  download: ["M12 3v12", "M7 10l5 5 5-5", "M4 21h16"],
};

/** An inline SVG icon, hidden from screen readers (the text next to it says what it is). */
export function icon(name: string, size = 24): SVGElement {
  const paths = PATHS[name] ?? PATHS.pin;
  return s(
    "svg",
    {
      viewBox: "0 0 24 24",
      width: size,
      height: size,
      fill: "none",
      stroke: "currentColor",
      "stroke-width": 2,
      "stroke-linecap": "round",
      "stroke-linejoin": "round",
      "aria-hidden": "true",
      focusable: "false",
      class: "icon",
    },
    paths.map((d) => s("path", { d })),
  );
}
