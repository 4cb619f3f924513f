"""Every user-facing sentence, label and number table; charts (pure Plotly builders)."""
