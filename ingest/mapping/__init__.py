"""Detection and mapping, the third and fourth stages: mapping files, and what they make
of a raw table (typed standard lines)."""
