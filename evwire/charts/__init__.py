"""Charts of delivery figures: rows -> Vega-Lite specs (Altair), rendered to SVG/PNG by vl-convert."""
