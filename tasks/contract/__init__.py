"""The submission contract: what a desk sends, about which region, and what it may not contain."""
