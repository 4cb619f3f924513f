"""Colours and layout shared by every chart."""

ACTUAL_COLOR = "#1f2937"
NAIVE_COLOR = "#9ca3af"
BAND_COLOR = "rgba(37, 99, 235, 0.15)"  # the prediction interval, under the lines
PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2"]
# Horizontal legends sit under the x axis, where they never cover the title.
LEGEND_BELOW = dict(orientation="h", yanchor="top", y=-0.22, x=0)
