"""ordermill: orders from every channel into one clean, validated standard schema.

The flow and where each stage lives: README.md, section Development.
"""
