"""LagLens core: everything testable without Streamlit."""
