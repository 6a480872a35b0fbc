// Whether a point is inside a polygon, for whoever needs it: zones and
// object masks (analytics/), motion masks (motion/). Points are [x, y].

/** Even-odd ray casting: whether p is inside the polygon (a point on an edge may fall either way). */
export function insidePolygon(p: readonly [number, number], polygon: readonly (readonly [number, number])[]): boolean {
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i];
    const [xj, yj] = polygon[j];
    if (yi > p[1] !== yj > p[1] && p[0] < ((xj - xi) * (p[1] - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}
