"""Energy and area components, one module each, each figure with its source."""
