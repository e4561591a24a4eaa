// The candidates' colours, the same on the dashboard's chart and on the audience screen.
// Okabe-Ito: told apart by people with any common colour-vision deficiency, and on a washed-out projector.
const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#4D4D4D", "#B8A200"];
export const colour = (index) => PALETTE[index % PALETTE.length];
