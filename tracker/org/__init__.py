"""A campaign's organisation: the campaign itself, its phases, units (责任单位), people and schools."""
