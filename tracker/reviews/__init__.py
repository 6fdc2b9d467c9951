"""Reviews above the county (市级复评, 省级评估, 国家审核认定): verdicts and findings, each finding a task."""
