"""The city's and the province's view over many counties (issue 15 §2): regions, the counties'
campaigns in them, the roll-up of their figures and the region's own notices."""
