"""A dashboard's size from its exported layout (the `position` of its YAML)."""

from __future__ import annotations

GRID_UNIT_PX = 8  # Superset's GRID_BASE_UNIT: a layout height of 1 is 8 px


def layout_height_px(position: dict) -> int:
    """A dashboard's height from its layout, without gutters and header (a lower bound of
    what Chromium draws): each row as tall as its tallest child, a column its children's sum."""
    def height(node_id: str) -> int:
        node = position[node_id]
        children = node.get("children", [])
        if node["type"] == "ROW":
            return max((height(c) for c in children), default=0)
        if node["type"] == "COLUMN":
            return sum(height(c) for c in children)
        return node.get("meta", {}).get("height", 0)
    return GRID_UNIT_PX * sum(height(row) for row in position["GRID_ID"]["children"])
