"""The board's pages, registered by app/wall.py with st.navigation (layout only)."""
