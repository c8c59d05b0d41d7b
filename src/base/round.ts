/** A number cut to 2 decimals, rounding half up: the report's precision for ms and %. */
export const round2 = (v: number) => Math.round(v * 100) / 100;
