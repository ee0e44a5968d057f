"""Write the dashboards' map of Brazil (src/afluente/server/ui/static/vendor/brazil-states.svg)
from the `@svg-maps/brazil` npm package (CC BY 4.0, after MapSVG's map):

    npm pack @svg-maps/brazil@2.0.0 && tar xzf svg-maps-brazil-2.0.0.tgz
    python scripts/vendor_brazil_map.py package/brazil.svg

Each state's outline is simplified (Douglas-Peucker, half a pixel of the 613x639 view box)
and written in whole pixels; each path is named by its UF code (`name="SP"`), the region name
ECharts' SVG maps join on."""

from __future__ import annotations

import re
import sys
from itertools import pairwise
from pathlib import Path

OUT = Path(__file__).parents[1] / "src/afluente/server/ui/static/vendor/brazil-states.svg"
TOLERANCE = 0.5
Point = tuple[float, float]


def subpaths(d: str) -> list[list[Point]]:
    """The absolute points of each `m ... z` ring (the file uses only relative m/l and z)."""
    rings: list[list[Point]] = []
    x = y = 0.0
    start = (0.0, 0.0)
    for part in re.findall(r"[mz][^mz]*", d):
        if part[0] == "z":
            x, y = start
            continue
        numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", part)]
        ring: list[Point] = []
        for dx, dy in zip(numbers[::2], numbers[1::2], strict=True):
            x, y = x + dx, y + dy
            ring.append((x, y))
        start = ring[0]
        rings.append(ring)
    return rings


def simplified(points: list[Point]) -> list[Point]:
    """Douglas-Peucker within TOLERANCE."""
    if len(points) < 3:
        return points
    (ax, ay), (bx, by) = points[0], points[-1]
    length = ((bx - ax) ** 2 + (by - ay) ** 2) ** 0.5
    far, index = 0.0, 0
    for i, (px, py) in enumerate(points[1:-1], start=1):
        if length:
            distance = abs((bx - ax) * (ay - py) - (ax - px) * (by - ay)) / length
        else:
            distance = ((px - ax) ** 2 + (py - ay) ** 2) ** 0.5
        if distance > far:
            far, index = distance, i
    if far <= TOLERANCE:
        return [points[0], points[-1]]
    return simplified(points[: index + 1])[:-1] + simplified(points[index:])


def path_data(rings: list[list[Point]]) -> str:
    parts = []
    for ring in rings:
        kept = simplified(ring)
        rounded = [(round(x), round(y)) for x, y in kept]
        unique = [p for i, p in enumerate(rounded) if i == 0 or p != rounded[i - 1]]
        if len(unique) < 3:
            continue  # an islet smaller than a pixel
        (x0, y0), *rest = unique
        steps = " ".join(f"{bx - ax} {by - ay}" for (ax, ay), (bx, by) in pairwise(unique))
        parts.append(f"M{x0} {y0}l{steps}z" if rest else "")
    return "".join(parts)


def main(source: Path) -> None:
    text = source.read_text(encoding="utf-8")
    paths = re.findall(r'<path\s+id="(\w+)"\s+aria-label="([^"]+)"\s+d="([^"]+)"', text)
    assert len(paths) == 27, f"expected the 27 UFs, found {len(paths)} paths"
    lines = ['<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 613 639">',
             "<!-- The 27 federative units of Brazil, simplified by scripts/vendor_brazil_map.py "
             "from @svg-maps/brazil 2.0.0 (CC BY 4.0), based on the map of MapSVG "
             "(mapsvg.com/maps/brazil, CC BY 4.0); see brazil-states.LICENSE.md -->"]
    for uf, label, d in paths:
        data = path_data(subpaths(d))
        lines.append(f'<path name="{uf.upper()}" aria-label="{label}" d="{data}"/>')
    lines.append("</svg>")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    sys.stderr.write(f"wrote {OUT} ({OUT.stat().st_size} bytes)\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
